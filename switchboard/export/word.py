"""Word (.docx) with python-docx: headings, paragraphs, the diagram and styled tables."""

from __future__ import annotations

import io

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.shared import Cm, Pt

from switchboard.export import diagram
from switchboard.export.document import TITLE, Table, sections
from switchboard.export.facts import Architecture


def _table(doc: object, table: Table) -> None:
    grid = doc.add_table(rows=1, cols=len(table.headers))  # type: ignore[attr-defined]
    grid.style = "Light Grid Accent 1"
    for cell, text in zip(grid.rows[0].cells, table.headers, strict=True):
        cell.text = text
    for row in table.rows:
        for cell, text in zip(grid.add_row().cells, row, strict=True):
            cell.text = text
    for row in grid.rows:
        for cell in row.cells:
            for paragraph in cell.paragraphs:
                for run in paragraph.runs:
                    run.font.size = Pt(8)


def render(arch: Architecture) -> bytes:
    doc = Document()
    page = doc.sections[0]
    page.orientation = WD_ORIENT.LANDSCAPE
    page.page_width, page.page_height = page.page_height, page.page_width
    page.left_margin = page.right_margin = Cm(1.5)
    doc.core_properties.title = TITLE
    doc.add_heading(TITLE, level=0)
    for section in sections(arch):
        doc.add_heading(section.title, level=1)
        for paragraph in section.paragraphs:
            doc.add_paragraph(paragraph)
        if section.diagram:
            doc.add_picture(io.BytesIO(diagram.png(arch)), width=Cm(24))
        if section.table is not None:
            _table(doc, section.table)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()
