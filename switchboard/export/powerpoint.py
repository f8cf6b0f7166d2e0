"""PowerPoint (.pptx) with python-pptx: a title slide, the diagram, one slide per table page."""

from __future__ import annotations

import io

from pptx import Presentation
from pptx.util import Inches, Pt

from switchboard.export import diagram
from switchboard.export.document import TITLE, Table, sections
from switchboard.export.facts import Architecture

ROWS_PER_SLIDE = 12


def _title(slide: object, text: str) -> None:
    frame = slide.shapes.title.text_frame  # type: ignore[attr-defined]
    frame.text = text
    frame.paragraphs[0].font.size = Pt(26)


def _table_slide(deck: object, title: str, table: Table, rows: list[list[str]]) -> None:
    slide = deck.slides.add_slide(deck.slide_layouts[5])  # type: ignore[attr-defined]
    _title(slide, title)
    shape = slide.shapes.add_table(
        len(rows) + 1, len(table.headers), Inches(0.3), Inches(1.2), Inches(9.4), Inches(0.4)
    )
    for col, header in enumerate(table.headers):
        shape.table.cell(0, col).text = header
    for r, row in enumerate(rows, start=1):
        for col, text in enumerate(row):
            shape.table.cell(r, col).text = text
    for cell in shape.table.iter_cells():
        for paragraph in cell.text_frame.paragraphs:
            paragraph.font.size = Pt(10)


def render(arch: Architecture) -> bytes:
    deck = Presentation()  # 10 x 7.5 in, the layouts' own size
    parts = sections(arch)
    cover = deck.slides.add_slide(deck.slide_layouts[0])
    cover.shapes.title.text = TITLE
    cover.placeholders[1].text = "\n".join(parts[0].paragraphs)
    for paragraph in cover.placeholders[1].text_frame.paragraphs:
        paragraph.font.size = Pt(14)
    picture = deck.slides.add_slide(deck.slide_layouts[5])
    _title(picture, "Topology")
    picture.shapes.add_picture(
        io.BytesIO(diagram.png(arch)), Inches(0.3), Inches(1.3), width=Inches(9.4)
    )
    for section in parts:
        if section.table is None:
            continue
        rows = section.table.rows
        for start in range(0, max(len(rows), 1), ROWS_PER_SLIDE):
            title = section.title if start == 0 else f"{section.title} (cont.)"
            _table_slide(deck, title, section.table, rows[start : start + ROWS_PER_SLIDE])
    out = io.BytesIO()
    deck.save(out)
    return out.getvalue()
