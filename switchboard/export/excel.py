"""Excel (.xlsx) with openpyxl: one sheet per table, a sheet with the diagram."""

from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.drawing.image import Image
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

from switchboard.export import diagram
from switchboard.export.document import TITLE, sections
from switchboard.export.facts import Architecture

_HEADER = PatternFill("solid", fgColor="BBDEFB")


def _sheet_name(title: str) -> str:
    return title.split(",")[0][:31]


def render(arch: Architecture) -> bytes:
    book = Workbook()
    cover = book.active
    assert cover is not None
    cover.title = "Diagram"
    cover["A1"] = TITLE
    cover["A1"].font = Font(bold=True, size=14)
    for line, paragraph in enumerate(sections(arch)[0].paragraphs, start=2):
        cover.cell(row=line, column=1, value=paragraph)
    cover.add_image(Image(io.BytesIO(diagram.png(arch, dpi=80))), "A6")
    for section in sections(arch):
        if section.table is None:
            continue
        sheet = book.create_sheet(_sheet_name(section.title))
        sheet.append(section.table.headers)
        for cell in sheet[1]:
            cell.font, cell.fill = Font(bold=True), _HEADER
        for row in section.table.rows:
            sheet.append(row)
        sheet.freeze_panes = "A2"
        sheet.auto_filter.ref = sheet.dimensions
        for index, header in enumerate(section.table.headers, start=1):
            longest = max([len(header), *(len(r[index - 1]) for r in section.table.rows)])
            sheet.column_dimensions[get_column_letter(index)].width = min(60, longest + 2)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
