"""Scrub secrets from text that may reach a client, a log line or a metric."""

from __future__ import annotations

import re
from collections.abc import Iterable

# Shapes of well-known provider keys: OpenAI/Anthropic `sk-...`, AWS access key ids, bearer tokens.
_KEY_SHAPES = re.compile(
    r"(sk-[A-Za-z0-9_\-*]{6,}|AKIA[0-9A-Z]{12,}|ASIA[0-9A-Z]{12,}|Bearer\s+[A-Za-z0-9._\-]{8,})"
)


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """Replace every known secret and anything shaped like a provider key with `[redacted]`."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "[redacted]")
    return _KEY_SHAPES.sub("[redacted]", text)
