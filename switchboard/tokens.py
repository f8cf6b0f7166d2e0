"""Cheap token estimates: for reservations made before the upstream reports real usage, and
the one estimate of a reply's usage when the upstream reports none."""

from __future__ import annotations

from switchboard.domain import ChatRequest, EmbeddingRequest, Usage

_CHARS_PER_TOKEN = 4
_PER_MESSAGE = 4  # role and separators


def estimate_prompt_tokens(request: ChatRequest | EmbeddingRequest) -> int:
    """About four characters a token, plus a little per message; errs on the high side."""
    if isinstance(request, EmbeddingRequest):
        return sum(
            len(item) if isinstance(item, list) else len(item) // _CHARS_PER_TOKEN + 1
            for item in request.input
        )
    chars = sum(len(m.text()) for m in request.messages)
    return chars // _CHARS_PER_TOKEN + _PER_MESSAGE * len(request.messages) + 1


def estimate_usage(request: ChatRequest | EmbeddingRequest, completion_pieces: int) -> Usage:
    """Usage for a reply whose upstream reported none: the prompt estimate, one token a delta."""
    return Usage(estimate_prompt_tokens(request), completion_pieces)
