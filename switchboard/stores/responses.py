"""Stored Responses (`store: true`), kept per owner, for `GET`/`DELETE /v1/responses/{id}` and
for `previous_response_id`.

A stored response is the response object as the client received it and the conversation that
led to it (the history before it, its input and its output, instructions left out as the API
asks) twice: as chat messages, for a deployment that translates, and as Responses input items,
for one that passes the API through (None for a response stored before items were kept), so a
continuation is one read on either kind. A response belongs to its owner
(`ctx.owner`): the same id under another owner is not found.

Embedded: an in-process LRU (one replica); redis_responses.py holds the store every replica
shares.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Protocol

import orjson

from switchboard.domain import Message


@dataclass(slots=True)
class StoredResponse:
    response: dict[str, Any]  # the Responses object, as rendered
    history: list[Message]  # the conversation up to and including this response's output
    items: list[dict[str, Any]] | None = None  # the same as Responses input items

    @property
    def id(self) -> str:
        return str(self.response["id"])

    def dumps(self) -> bytes:
        history = [m.to_openai() for m in self.history]
        return orjson.dumps({"response": self.response, "history": history, "items": self.items})

    @classmethod
    def loads(cls, raw: bytes | str) -> StoredResponse:
        data = orjson.loads(raw)
        history = [
            Message(
                m["role"],
                m.get("content"),
                m.get("name"),
                m.get("tool_calls"),
                m.get("tool_call_id"),
            )
            for m in data["history"]
        ]
        return cls(data["response"], history, data.get("items"))


class ResponseStore(Protocol):
    async def get(self, owner: str, response_id: str) -> StoredResponse | None:
        """The stored response, or None when this owner has none by that id."""
        ...

    async def put(self, owner: str, stored: StoredResponse) -> None: ...

    async def delete(self, owner: str, response_id: str) -> bool:
        """Whether there was one to delete."""
        ...

    async def aclose(self) -> None: ...


class InMemoryResponseStore:
    """Keeps the most recently used responses, at most `max_count` of them and `max_bytes`
    serialised (a history can hold images: the count alone would not bound the memory)."""

    def __init__(self, max_count: int, max_bytes: int) -> None:
        self._max = max_count
        self._max_bytes = max_bytes
        self._bytes = 0
        self._data: OrderedDict[tuple[str, str], bytes] = OrderedDict()

    async def get(self, owner: str, response_id: str) -> StoredResponse | None:
        raw = self._data.get((owner, response_id))
        if raw is None:
            return None
        self._data.move_to_end((owner, response_id))
        return StoredResponse.loads(raw)

    async def put(self, owner: str, stored: StoredResponse) -> None:
        await self.delete(owner, stored.id)
        raw = stored.dumps()
        self._data[(owner, stored.id)] = raw
        self._bytes += len(raw)
        while len(self._data) > self._max or self._bytes > self._max_bytes:
            self._bytes -= len(self._data.popitem(last=False)[1])

    async def delete(self, owner: str, response_id: str) -> bool:
        raw = self._data.pop((owner, response_id), None)
        if raw is None:
            return False
        self._bytes -= len(raw)
        return True

    async def aclose(self) -> None:
        self._data.clear()
        self._bytes = 0
