"""The export formats: name -> the module that renders it, its media type and file suffix.
Modules are imported on use, so the office libraries cost nothing until a document is asked for."""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from switchboard.errors import ServiceNotReady
from switchboard.export.facts import Architecture


@dataclass(frozen=True, slots=True)
class Format:
    module: str
    media_type: str
    suffix: str


FORMATS: dict[str, Format] = {
    "md": Format("switchboard.export.markdown", "text/markdown; charset=utf-8", "md"),
    "docx": Format(
        "switchboard.export.word",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "docx",
    ),
    "xlsx": Format(
        "switchboard.export.excel",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "xlsx",
    ),
    "pptx": Format(
        "switchboard.export.powerpoint",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "pptx",
    ),
    "pdf": Format("switchboard.export.pdf", "application/pdf", "pdf"),
}


def render(arch: Architecture, name: str) -> bytes:
    """The document in format `name` (a key of FORMATS); CPU-bound, so call it off the loop."""
    try:
        module = importlib.import_module(FORMATS[name].module)
    except ImportError as exc:
        raise ServiceNotReady(
            f"The {name} export needs the export extra: pip install 'switchboard[export]'"
            f" ({exc.name} is missing).",
            code="export_unavailable",
        ) from None
    document: bytes = module.render(arch)
    return document
