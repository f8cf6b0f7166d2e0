"""Idempotency-Key on the routes that create jobs (`/v1/tasks`, `/v1/feedback`, `/v1/batches`,
`/v1/documents`): the job table's unique (owner, idempotency_key) index is the one record of a
key, kept as long as the job row. A repeat of the same request gets the first job (and what it
made); the same key with a different request (another route, body or document) is a 409.

The request's fingerprint travels in the job's payload under `request_sha256`; jobs the engine
submits itself (chain steps, webhooks) carry none and are not checked.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from switchboard.errors import Conflict
from switchboard.jobs.model import Job

FINGERPRINT = "request_sha256"


@dataclass(frozen=True)
class Idempotency:
    key: str
    fingerprint: str

    @classmethod
    def of(cls, key: str | None, route: str, request: Any) -> Idempotency | None:
        """The key and the fingerprint of (route, request as JSON-able data); None: no key."""
        if key is None:
            return None
        canonical = json.dumps([route, request], sort_keys=True, separators=(",", ":"), default=str)
        return cls(key, hashlib.sha256(canonical.encode()).hexdigest())


def stamped(payload: dict[str, Any], idem: Idempotency | None) -> dict[str, Any]:
    """The job's payload, carrying the request's fingerprint when it came with a key."""
    return payload if idem is None else {**payload, FINGERPRINT: idem.fingerprint}


def replayed(job: Job, kind: str, fingerprint: str | None) -> Job:
    """`job` already holds the key: it is the answer if the same request made it, else 409.
    A job stored before fingerprints existed is trusted as the same request."""
    if fingerprint is None:
        return job
    if job.kind != kind or job.payload.get(FINGERPRINT, fingerprint) != fingerprint:
        raise Conflict(
            "This Idempotency-Key was already used for a different request; send a new key "
            "with a new request.",
            param="Idempotency-Key",
            code="idempotency_key_reused",
        )
    return job
