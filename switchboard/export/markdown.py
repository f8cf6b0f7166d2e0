"""Markdown: the tables as pipe tables, the diagram as Mermaid (no extra dependency)."""

from __future__ import annotations

from switchboard.export import diagram
from switchboard.export.document import TITLE, Table, sections
from switchboard.export.facts import Architecture


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _table(table: Table) -> list[str]:
    lines = ["| " + " | ".join(table.headers) + " |", "|" + " --- |" * len(table.headers)]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in table.rows]
    return lines


def render(arch: Architecture) -> bytes:
    lines = [f"# {TITLE}", ""]
    for section in sections(arch):
        lines += [f"## {section.title}", ""]
        for paragraph in section.paragraphs:
            lines += [paragraph, ""]
        if section.diagram:
            lines += ["```mermaid", diagram.mermaid(arch), "```", ""]
        if section.table is not None:
            lines += [*_table(section.table), ""]
    return "\n".join(lines).encode()
