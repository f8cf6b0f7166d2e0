"""Where the tests find Redis and PostgreSQL, and what they do when one is missing.

Locally a missing service skips the tests that need it. In CI (`CI` or
`SWITCHBOARD_TEST_REQUIRE_SERVICES` set to anything but "", "0", "false", "no") it fails them,
so a run cannot go green without the services it was meant to exercise.
"""

from __future__ import annotations

import os
import socket
from typing import NoReturn
from urllib.parse import urlsplit

import pytest

REQUIRE_FLAGS = ("SWITCHBOARD_TEST_REQUIRE_SERVICES", "CI")
_FALSE = {"", "0", "false", "no", "off"}
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"


def services_required() -> bool:
    """True when a missing service must fail the run rather than skip."""
    return any(os.environ.get(name, "").strip().lower() not in _FALSE for name in REQUIRE_FLAGS)


def require_or_skip(reason: str) -> NoReturn:
    """Fail the current test (services required) or skip it (local run) with `reason`."""
    if services_required():
        flags = " or ".join(REQUIRE_FLAGS)
        pytest.fail(f"{reason} (services are required: {flags} is set)", pytrace=False)
    pytest.skip(reason)


def redis_url() -> str:
    return os.environ.get("SWITCHBOARD_TEST_REDIS_URL", DEFAULT_REDIS_URL)


def postgres_url() -> str:
    return os.environ.get("SWITCHBOARD_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)


def accepts_connections(url: str, timeout_s: float = 1.0) -> bool:
    """Whether something listens at the URL's host and port (a TCP connect, no protocol)."""
    parts = urlsplit(url)
    default_port = {"redis": 6379, "rediss": 6379}.get(parts.scheme.split("+")[0], 5432)
    try:
        with socket.create_connection(
            (parts.hostname or "127.0.0.1", parts.port or default_port), timeout=timeout_s
        ):
            return True
    except OSError:
        return False
