"""Log lines as text (`key=value` after the message) or as one JSON object a line (Loki, ELK).

Structured records carry their fields in `extra={"fields": {...}}`; both formats write them,
and every line passes the redaction filter's scrub once more, fields included.
"""

from __future__ import annotations

import logging
import re
import sys
from datetime import UTC, datetime
from typing import Any, Literal

import orjson

from switchboard.observability.log_redaction import RedactingFilter, scrub

LogFormat = Literal["json", "text"]
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


def _fields(record: logging.LogRecord) -> dict[str, Any]:
    fields = getattr(record, "fields", None)
    return fields if isinstance(fields, dict) else {}


_NEEDS_QUOTES = re.compile(r'[\s"=]')


def _text_value(value: object) -> str:
    if value is True or value is False or isinstance(value, int | float):
        return str(value)  # numbers and booleans never need quotes
    text = str(value)
    if not text or _NEEDS_QUOTES.search(text):
        return orjson.dumps(text).decode()
    return text


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        fields = _fields(record)
        if fields:
            pairs = " ".join(f"{k}={_text_value(v)}" for k, v in fields.items() if v is not None)
            line = f"{line} {pairs}"
        return scrub(line)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name, value in _fields(record).items():
            if value is not None:
                entry.setdefault(name, value)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return scrub(orjson.dumps(entry, default=str).decode())


def formatter(kind: LogFormat) -> logging.Formatter:
    return JsonFormatter() if kind == "json" else TextFormatter()


def configure_logging(kind: LogFormat, level: str) -> None:
    """One stderr handler on the root logger, in the chosen format, with redaction."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter(kind))
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
