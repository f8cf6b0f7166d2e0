"""A logging filter that scrubs secrets from every record before any handler writes it.

Servers and libraries log what they see (at debug, the WebSocket handshake line with its
`?api_key=`), so redaction is applied to the formatted message of every record, not only to
Switchboard's own log calls.
"""

from __future__ import annotations

import logging
import re

from switchboard.redaction import redact

_QUERY_KEY = re.compile(r"(api_key|key|token)=[^&\s\"']+", re.IGNORECASE)


# every shape the two patterns can match starts with one of these: most lines hold none of them,
# and a few substring tests are far cheaper than the regular expressions
_MARKERS = ("sk-", "akia", "asia", "bearer", "key=", "token=")


def scrub(text: str) -> str:
    lowered = text.lower()
    if not any(marker in lowered for marker in _MARKERS):
        return text
    return redact(_QUERY_KEY.sub(r"\1=[redacted]", text))


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: leave it to the handler to report
            return True
        clean = scrub(message)
        if clean != message:
            record.msg, record.args = clean, None
        return True


def install(logger: logging.Logger | None = None) -> None:
    """Attach the filter to every handler of `logger` (the root logger by default)."""
    target = logger or logging.getLogger()
    for handler in target.handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())
