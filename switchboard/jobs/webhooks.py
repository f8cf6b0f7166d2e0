"""Job callbacks: signed like Stripe's webhooks, sent only to public addresses.

Each delivery is a POST of the job (the `GET /v1/tasks/{id}` body) with the header

    Switchboard-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>

where the secret is `SWITCHBOARD_WEBHOOK_SECRET`. A receiver recomputes the HMAC over the
timestamp, a dot and the raw body, compares in constant time, and refuses timestamps older than
a few minutes (replays). `verify` below does exactly that. A delivery that fails (no 2xx) is
retried with exponential backoff; after the last attempt the job's `callback_status` is failed.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import ipaddress
import socket
import time
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from switchboard.errors import InvalidRequest

if TYPE_CHECKING:
    from switchboard.config import Settings

SIGNATURE_HEADER = "Switchboard-Signature"
DEFAULT_TOLERANCE_S = 300


def sign(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """The signature header's value for `body` sent at `timestamp`."""
    t = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def verify(secret: str, header: str, body: bytes, tolerance_s: int = DEFAULT_TOLERANCE_S) -> bool:
    """A receiver's check: the signature matches and the timestamp is recent."""
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        t = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs(time.time() - t) > tolerance_s:
        return False
    expected = sign(secret, body, t).split("v1=", 1)[1]
    return hmac.compare_digest(expected, parts.get("v1", ""))


def _public(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    return ip.is_global and not ip.is_multicast


async def check_target(url: str, settings: Settings) -> None:
    """Refuse a callback URL that is not http(s), or (unless allowed in config) that resolves
    to a loopback, private, link-local or otherwise non-public address."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidRequest("callback_url must be an http(s) URL", param="callback_url")
    if settings.webhook_secret is None:
        raise InvalidRequest(
            "callbacks need SWITCHBOARD_WEBHOOK_SECRET on the gateway", param="callback_url"
        )
    if settings.webhook_allow_private:
        return
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(
            parts.hostname, parts.port or 443, type=socket.SOCK_STREAM
        )
    except OSError as exc:
        raise InvalidRequest("callback_url's host does not resolve", param="callback_url") from exc
    addresses = {str(info[4][0]).split("%", 1)[0] for info in infos}
    if not addresses or not all(_public(a) for a in addresses):
        raise InvalidRequest("callback_url must resolve to a public address", param="callback_url")
