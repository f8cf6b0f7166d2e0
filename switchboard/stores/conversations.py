"""Conversation history for the simple chat API and the WebSocket chat, kept per owner.

A conversation belongs to its owner (an opaque string such as "t:<tenant>/k:<key id>", or
"anonymous" when API keys are off): the same conversation id under two owners is two
conversations, so no caller reaches another's history by guessing an id.

Embedded: an in-process LRU (one replica); redis_conversations.py holds the store that every
replica shares.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Protocol

from switchboard.domain import Message


class ConversationStore(Protocol):
    async def history(self, owner: str, conversation_id: str) -> list[Message]:
        """The stored messages, oldest first; [] for a conversation this owner never had."""
        ...

    async def append(self, owner: str, conversation_id: str, messages: list[Message]) -> None:
        """Add `messages` at the end, keeping only the newest ones."""
        ...

    async def aclose(self) -> None: ...


class InMemoryConversationStore:
    """Keeps the last `max_messages` of the `max_conversations` most recently used conversations."""

    def __init__(self, max_conversations: int, max_messages: int) -> None:
        self._max_conversations = max_conversations
        self._max_messages = max_messages
        self._data: OrderedDict[tuple[str, str], list[Message]] = OrderedDict()

    async def history(self, owner: str, conversation_id: str) -> list[Message]:
        messages = self._data.get((owner, conversation_id))
        if messages is None:
            return []
        self._data.move_to_end((owner, conversation_id))
        return list(messages)

    async def append(self, owner: str, conversation_id: str, messages: list[Message]) -> None:
        key = (owner, conversation_id)
        kept = self._data.setdefault(key, [])
        kept.extend(messages)
        del kept[: max(0, len(kept) - self._max_messages)]
        self._data.move_to_end(key)
        while len(self._data) > self._max_conversations:
            self._data.popitem(last=False)

    async def aclose(self) -> None:
        self._data.clear()
