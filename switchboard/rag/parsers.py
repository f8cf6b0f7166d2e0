"""Document formats to plain text: txt, markdown, HTML (lxml) and PDF (pypdf), page by page.

Each parser is a function from bytes to a `ParsedDocument`, picked from a registry by format;
the format comes from the declared content type, else from the file name's extension.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import PurePath

from switchboard.errors import InvalidRequest

FORMATS = ("txt", "markdown", "html", "pdf")
CONTENT_TYPES = {
    "text/plain": "txt",
    "text/markdown": "markdown",
    "text/x-markdown": "markdown",
    "text/html": "html",
    "application/xhtml+xml": "html",
    "application/pdf": "pdf",
}
EXTENSIONS = {
    ".txt": "txt",
    ".text": "txt",
    ".md": "markdown",
    ".markdown": "markdown",
    ".html": "html",
    ".htm": "html",
    ".pdf": "pdf",
}
_BLANK_RUNS = re.compile(r"\n{3,}")
_SPACE_RUNS = re.compile(r"[ \t\f\v\r]+")


class UnreadableDocument(InvalidRequest):
    """The bytes are not a document of the declared format (400)."""


@dataclass(frozen=True, slots=True)
class Page:
    number: int | None  # 1-based for paged formats (PDF), None otherwise
    text: str


@dataclass(frozen=True, slots=True)
class ParsedDocument:
    title: str | None
    pages: list[Page] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n\n".join(p.text for p in self.pages)


def detect_format(content_type: str | None, filename: str | None) -> str:
    """`txt`, `markdown`, `html` or `pdf`; a format name itself is accepted as a content type."""
    declared = (content_type or "").split(";")[0].strip().lower()
    if declared in FORMATS:
        return declared
    if declared in CONTENT_TYPES:
        return CONTENT_TYPES[declared]
    suffix = PurePath(filename or "").suffix.lower()
    if suffix in EXTENSIONS:
        return EXTENSIONS[suffix]
    if not declared and not suffix:
        return "txt"
    raise UnreadableDocument(
        f"unsupported document format {declared or suffix!r}; use one of {', '.join(FORMATS)}",
        param="content_type",
    )


def tidy(text: str) -> str:
    """Collapse runs of spaces and of blank lines; trim every line."""
    lines = (_SPACE_RUNS.sub(" ", line).strip() for line in text.splitlines())
    return _BLANK_RUNS.sub("\n\n", "\n".join(lines)).strip()


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UnreadableDocument("text documents must be UTF-8", param="content") from None


def parse_text(data: bytes) -> ParsedDocument:
    text = tidy(_decode(data))
    first = text.split("\n", 1)[0].strip()
    return ParsedDocument(first[:200] or None, [Page(None, text)])


def _html_text(root: object) -> tuple[str | None, str]:
    """The <title> (or first <h1>) and the visible text of an lxml tree, blocks on own lines."""
    from lxml import etree, html

    assert isinstance(root, html.HtmlElement)
    etree.strip_elements(root, "script", "style", "noscript", "template", with_tail=False)
    title = None
    for path in ("//title", "//h1"):
        found = root.xpath(path)
        if found and found[0].text_content().strip():
            title = " ".join(found[0].text_content().split())
            break
    for element in root.iter("title"):
        element.drop_tree()
    blocks = ("p", "div", "li", "br", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "section", "pre")
    for element in root.iter(*blocks):
        element.tail = "\n" + (element.tail or "")
    return title, tidy(root.text_content())


def parse_html(data: bytes) -> ParsedDocument:
    from lxml import etree, html

    if not data.strip():
        return ParsedDocument(None, [Page(None, "")])
    try:
        root = html.document_fromstring(data)
    except (etree.ParserError, ValueError) as exc:
        raise UnreadableDocument(f"unreadable HTML: {exc}", param="content") from None
    title, text = _html_text(root)
    return ParsedDocument(title, [Page(None, text)])


def parse_markdown(data: bytes) -> ParsedDocument:
    """Rendered by markdown-it (CommonMark) to HTML, then read as HTML: no markup in the text."""
    from lxml import html
    from markdown_it import MarkdownIt

    source = _decode(data)
    if not source.strip():
        return ParsedDocument(None, [Page(None, "")])
    rendered = MarkdownIt("commonmark").render(source)
    title, text = _html_text(html.document_fromstring(f"<html><body>{rendered}</body></html>"))
    return ParsedDocument(title, [Page(None, text)])


def parse_pdf(data: bytes) -> ParsedDocument:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        pages = [Page(i + 1, tidy(p.extract_text() or "")) for i, p in enumerate(reader.pages)]
        meta = reader.metadata
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise UnreadableDocument(f"unreadable PDF: {exc}", param="content") from None
    title = (meta.title if meta is not None else None) or None
    if title is None:
        first = next((p.text for p in pages if p.text), "")
        title = first.split("\n", 1)[0][:200] or None
    return ParsedDocument(title, pages)


PARSERS: dict[str, Callable[[bytes], ParsedDocument]] = {
    "txt": parse_text,
    "markdown": parse_markdown,
    "html": parse_html,
    "pdf": parse_pdf,
}


def parse(data: bytes, fmt: str) -> ParsedDocument:
    """CPU work: callers on the event loop run it in a thread."""
    return PARSERS[fmt](data)
