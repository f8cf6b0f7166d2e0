"""Key material: generate a key, hash it for storage, check its shape.

Keys are `sk-sb-` + 43 url-safe characters (256 random bits). Only a hash is stored: HMAC-SHA256
with the server pepper, or plain SHA-256 without one. The random part carries all the entropy,
so a fast hash is enough (no salted KDF); the pepper makes a stolen table useless on its own.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

KEY_PREFIX = "sk-sb-"
RANDOM_BYTES = 32
KEY_LENGTH = len(KEY_PREFIX) + 43
DISPLAY_CHARS = 12


def generate_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(RANDOM_BYTES)


def display_prefix(plaintext: str) -> str:
    """The first characters, kept in clear so people can tell their keys apart."""
    return plaintext[:DISPLAY_CHARS]


def looks_like_key(candidate: str) -> bool:
    """Cheap shape check, so that garbage never costs a database lookup."""
    return len(candidate) == KEY_LENGTH and candidate.startswith(KEY_PREFIX)


class KeyHasher:
    """Hashes keys for storage and lookup; the pepper never leaves this object."""

    def __init__(self, pepper: str | None) -> None:
        self._pepper = pepper.encode() if pepper else None

    def __repr__(self) -> str:
        return f"KeyHasher(peppered={self._pepper is not None})"

    def hash(self, plaintext: str) -> str:
        data = plaintext.encode()
        if self._pepper is None:
            return hashlib.sha256(data).hexdigest()
        return hmac.new(self._pepper, data, hashlib.sha256).hexdigest()

    def matches(self, plaintext: str, stored_hash: str) -> bool:
        return hmac.compare_digest(self.hash(plaintext).encode(), stored_hash.encode())
