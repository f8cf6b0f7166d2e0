"""One turn of a stored conversation: shared by the simple chat API and the WebSocket chat.

A conversation is stored under its owner (see `stores/conversations.py`); `owner` defaults to
"anonymous", the owner of everything when API keys are off.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from switchboard.domain import ChatRequest, Message
from switchboard.stores.conversations import ConversationStore

ANONYMOUS = "anonymous"


@dataclass(slots=True)
class Turn:
    conversation_id: str
    user: Message
    request: ChatRequest
    owner: str = ANONYMOUS


async def start_turn(
    store: ConversationStore,
    *,
    message: str,
    model: str,
    conversation_id: str | None,
    temperature: float | None,
    max_tokens: int | None,
    stream: bool,
    system: str | None = None,
    owner: str = ANONYMOUS,
) -> Turn:
    """Build the chat request from the owner's stored history plus the new user message."""
    conversation_id = conversation_id or uuid.uuid4().hex
    history = await store.history(owner, conversation_id)
    user = Message("user", message)
    messages = ([Message("system", system)] if system else []) + history + [user]
    request = ChatRequest(
        model=model,
        messages=messages,
        stream=stream,
        include_usage=stream,
        max_tokens=max_tokens,
        temperature=temperature,
    )
    return Turn(conversation_id, user, request, owner)


async def finish_turn(store: ConversationStore, turn: Turn, reply: str) -> None:
    """Store the exchange only once the reply is complete, so a failed turn leaves no trace."""
    await store.append(turn.owner, turn.conversation_id, [turn.user, Message("assistant", reply)])
