"""PDF with reportlab: landscape A4, the diagram and the tables (text is extractable)."""

from __future__ import annotations

import io

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import cm
from reportlab.platypus import Flowable, Image, Paragraph, SimpleDocTemplate, Spacer, TableStyle
from reportlab.platypus import Table as Grid

from switchboard.export import diagram
from switchboard.export.document import TITLE, Table, sections
from switchboard.export.facts import Architecture

_GRID = TableStyle(
    [
        ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#BBDEFB")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ]
)


def _grid(table: Table, width: float) -> Grid:
    styles = getSampleStyleSheet()
    cell = styles["BodyText"].clone("cell", fontSize=7, leading=8.5)
    data = [[Paragraph(f"<b>{h}</b>", cell) for h in table.headers]]
    data += [
        [Paragraph(text.replace("&", "&amp;").replace("<", "&lt;"), cell) for text in row]
        for row in table.rows
    ]
    grid = Grid(data, colWidths=[width / len(table.headers)] * len(table.headers), repeatRows=1)
    grid.setStyle(_GRID)
    return grid


def render(arch: Architecture) -> bytes:
    out = io.BytesIO()
    page = landscape(A4)
    doc = SimpleDocTemplate(
        out,
        pagesize=page,
        title=TITLE,
        leftMargin=1.5 * cm,
        rightMargin=1.5 * cm,
        topMargin=1.5 * cm,
        bottomMargin=1.5 * cm,
    )
    styles = getSampleStyleSheet()
    story: list[Flowable] = [Paragraph(TITLE, styles["Title"])]
    for section in sections(arch):
        story.append(Paragraph(section.title, styles["Heading2"]))
        story += [Paragraph(p, styles["BodyText"]) for p in section.paragraphs]
        if section.diagram:
            image = Image(io.BytesIO(diagram.png(arch)))
            scale = min(doc.width / image.drawWidth, 12 * cm / image.drawHeight)
            image.drawWidth, image.drawHeight = image.drawWidth * scale, image.drawHeight * scale
            story.append(image)
        if section.table is not None:
            story += [Spacer(1, 0.2 * cm), _grid(section.table, doc.width)]
    doc.build(story)
    return out.getvalue()
