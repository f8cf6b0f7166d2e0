"""Conversation history for the simple chat API and the WebSocket chat.

Embedded: an in-process LRU (one replica); redis_conversations.py holds the store that every
replica shares.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Protocol

from switchboard.domain import Message


class ConversationStore(Protocol):
    async def history(self, conversation_id: str) -> list[Message]: ...

    async def append(self, conversation_id: str, messages: list[Message]) -> None: ...

    async def aclose(self) -> None: ...


class InMemoryConversationStore:
    """Keeps the last `max_messages` of the `max_conversations` most recently used conversations."""

    def __init__(self, max_conversations: int, max_messages: int) -> None:
        self._max_conversations = max_conversations
        self._max_messages = max_messages
        self._data: OrderedDict[str, list[Message]] = OrderedDict()

    async def history(self, conversation_id: str) -> list[Message]:
        messages = self._data.get(conversation_id)
        if messages is None:
            return []
        self._data.move_to_end(conversation_id)
        return list(messages)

    async def append(self, conversation_id: str, messages: list[Message]) -> None:
        kept = self._data.setdefault(conversation_id, [])
        kept.extend(messages)
        del kept[: max(0, len(kept) - self._max_messages)]
        self._data.move_to_end(conversation_id)
        while len(self._data) > self._max_conversations:
            self._data.popitem(last=False)

    async def aclose(self) -> None:
        self._data.clear()
