"""Each format to text: titles, pages, markup gone; unknown formats and bad bytes are 400s."""

from __future__ import annotations

import pytest

from switchboard.rag.parsers import UnreadableDocument, detect_format, parse
from tests.rag.conftest import make_pdf


def test_formats_from_content_type_then_extension() -> None:
    assert detect_format("text/markdown; charset=utf-8", "x.txt") == "markdown"
    assert detect_format("application/octet-stream", "Report.PDF") == "pdf"
    assert detect_format(None, "page.htm") == "html"
    assert detect_format("pdf", None) == "pdf"
    assert detect_format(None, None) == "txt"
    with pytest.raises(UnreadableDocument):
        detect_format("image/png", "cat.png")


def test_plain_text_keeps_lines_and_takes_the_first_as_title() -> None:
    doc = parse(b"Ferns\n\n\n\nFerns   reproduce with spores.\n", "txt")
    assert doc.title == "Ferns"
    assert doc.text == "Ferns\n\nFerns reproduce with spores."
    assert [p.number for p in doc.pages] == [None]


def test_markdown_loses_its_markup() -> None:
    source = (
        b"# Tides\n\nTides are driven by the **Moon** and the [Sun](http://x).\n\n"
        b"- spring\n- neap\n"
    )
    doc = parse(source, "markdown")
    assert doc.title == "Tides"
    assert "Tides are driven by the Moon and the Sun." in doc.text
    assert "**" not in doc.text and "http" not in doc.text
    assert "spring" in doc.text and "neap" in doc.text


def test_html_drops_scripts_and_styles_and_reads_the_title() -> None:
    page = (
        b"<html><head><title>Volcanoes</title><style>p{color:red}</style></head>"
        b"<body><script>alert('no')</script><h1>Lava</h1><p>Basalt lava is runny.</p>"
        b"<p>Rhyolite is <em>sticky</em>.</p></body></html>"
    )
    doc = parse(page, "html")
    assert doc.title == "Volcanoes"
    assert doc.text.split("\n") == ["Lava", "Basalt lava is runny.", "Rhyolite is sticky."]


def test_pdf_pages_are_numbered_from_one() -> None:
    data = make_pdf(["Page one talks about owls.", "Page two talks about\nbats at night."], "Night")
    doc = parse(data, "pdf")
    assert doc.title == "Night"
    assert [p.number for p in doc.pages] == [1, 2]
    assert "owls" in doc.pages[0].text and "bats at night" in doc.pages[1].text


@pytest.mark.parametrize(
    ("data", "fmt"), [(b"\xff\xfe\x00garbage", "txt"), (b"not a pdf at all", "pdf")]
)
def test_bad_bytes_are_a_client_error(data: bytes, fmt: str) -> None:
    with pytest.raises(UnreadableDocument) as caught:
        parse(data, fmt)
    assert caught.value.status == 400
