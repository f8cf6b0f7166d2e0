"""Each export format, opened again with its own library: it names every deployment of the
catalogue, shows the measured figures and the diagram, and leaks no password."""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest

from switchboard.export import FORMATS, Architecture, render
from tests.export.conftest import DEPLOYMENTS, PASSWORDS


def _docx(data: bytes) -> tuple[str, int]:
    import docx

    doc = docx.Document(io.BytesIO(data))
    cells = [c.text for t in doc.tables for row in t.rows for c in row.cells]
    text = "\n".join([p.text for p in doc.paragraphs] + cells)
    return text, len(doc.inline_shapes)


def _xlsx(data: bytes) -> tuple[str, int]:
    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(data))
    values = [
        str(v)
        for sheet in book.worksheets
        for row in sheet.iter_rows(values_only=True)
        for v in row
        if v is not None
    ]
    images = sum(len(sheet._images) for sheet in book.worksheets)
    return "\n".join(values), images


def _pptx(data: bytes) -> tuple[str, int]:
    from pptx import Presentation
    from pptx.enum.shapes import MSO_SHAPE_TYPE

    deck = Presentation(io.BytesIO(data))
    texts, pictures = [], 0
    for slide in deck.slides:
        for shape in slide.shapes:
            pictures += shape.shape_type == MSO_SHAPE_TYPE.PICTURE
            if shape.has_text_frame:
                texts.append(shape.text_frame.text)
            if shape.has_table:
                texts += [cell.text for cell in shape.table.iter_cells()]
    return "\n".join(texts), pictures


def _pdf(data: bytes) -> tuple[str, int]:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    images = sum(len(page.images) for page in reader.pages)
    return "\n".join(page.extract_text() for page in reader.pages), images


def _md(data: bytes) -> tuple[str, int]:
    text = data.decode()
    return text, text.count("```mermaid")


READERS: dict[str, Callable[[bytes], tuple[str, int]]] = {
    "docx": _docx,
    "xlsx": _xlsx,
    "pptx": _pptx,
    "pdf": _pdf,
    "md": _md,
}


def test_every_format_has_a_reader() -> None:
    assert READERS.keys() == FORMATS.keys()


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_format_reopens_with_catalogue_and_figures(architecture: Architecture, fmt: str) -> None:
    text, diagrams = READERS[fmt](render(architecture, fmt))
    for deployment in DEPLOYMENTS:
        assert deployment in text, f"{fmt}: {deployment} missing"
    for expected in ("backup", "simple: backup", "375 ms", "2200 ms", "half_open", "acme"):
        assert expected in text, f"{fmt}: {expected!r} missing"
    assert "postgres" in text and "redis" in text
    for secret in [*PASSWORDS, "sk-master-not-in-documents"]:
        assert secret not in text, f"{fmt} leaks a secret"
    assert diagrams >= 1, f"{fmt}: no diagram"


def test_a_catalogue_without_figures_says_so(architecture: Architecture) -> None:
    from dataclasses import replace

    text = render(replace(architecture, live=None, notes=["No running gateway was read."]), "md")
    assert b"No requests measured yet." in text
    assert b"No running gateway was read." in text
