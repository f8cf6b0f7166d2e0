"""Domain replies -> OpenAI Responses wire format: the response object and its typed stream
events (response.created ... response.completed), each with its `sequence_number`.

The JSON reply and the stream build their output items with the same functions, so a streamed
response ends with the very object that `GET /v1/responses/{id}` later returns.
"""

from __future__ import annotations

import time
from typing import Any

from switchboard.api.render import sse
from switchboard.api.responses_parts import (
    call_item,
    message_item,
    reasoning_item,
    refusal_part,
    service_tier,
    text_annotations,
    text_logprobs,
    text_part,
)
from switchboard.domain import ChatChunk, ChatResponse, Choice, ChunkChoice, Usage
from switchboard.errors import SwitchboardError
from switchboard.pipeline.context import new_request_id

INCOMPLETE = {"length": "max_output_tokens", "content_filter": "content_filter"}
_PART_FIELD = {"output_text": "text", "refusal": "refusal"}  # a message part's text field


def new_id(prefix: str) -> str:
    return f"{prefix}_{new_request_id()}"


def usage_json(usage: Usage | None) -> dict[str, Any] | None:
    if usage is None:
        return None
    return {
        "input_tokens": usage.prompt_tokens,
        "input_tokens_details": {"cached_tokens": usage.cached_tokens},
        "output_tokens": usage.completion_tokens,
        "output_tokens_details": {"reasoning_tokens": usage.reasoning_tokens},
        "total_tokens": usage.total_tokens,
    }


def output_items(choice: Choice | None) -> list[dict[str, Any]]:
    if choice is None:
        return []
    items = []
    reasoning = (choice.message_extra or {}).get("reasoning_content")
    if isinstance(reasoning, str) and reasoning:
        items.append(reasoning_item(new_id("rs"), reasoning))
    refusal = (choice.message_extra or {}).get("refusal")
    refusal = refusal if isinstance(refusal, str) and refusal else None
    if choice.content or refusal:
        notes = text_annotations(choice.message_extra)
        text = choice.content or ("" if notes else None)
        logprobs = text_logprobs(choice.extra)
        item = message_item(new_id("msg"), text, refusal=refusal, notes=notes, logprobs=logprobs)
        items.append(item)
    for call in choice.tool_calls or ():
        arguments = (call.get("function") or {}).get("arguments") or ""
        items.append(call_item(new_id("fc"), call, arguments))
    return items


def response_json(
    shape: dict[str, Any],
    output: list[dict[str, Any]],
    finish_reason: str | None,
    usage: Usage | None,
) -> dict[str, Any]:
    """`shape` is the response without its outcome: id, created_at, model and the echoed
    request settings (ResponsesIn.echo)."""
    reason = INCOMPLETE.get(finish_reason or "")
    return {
        **shape,
        "status": "incomplete" if reason else "completed",
        "incomplete_details": {"reason": reason} if reason else None,
        "output": output,
        "usage": usage_json(usage),
    }


def reply_json(shape: dict[str, Any], reply: ChatResponse) -> dict[str, Any]:
    choice = reply.choices[0] if reply.choices else None
    finish = choice.finish_reason if choice is not None else None
    shape = {**shape, **service_tier(reply.extra)}
    return response_json(shape, output_items(choice), finish, reply.usage)


def in_progress(shape: dict[str, Any]) -> dict[str, Any]:
    return {**shape, "status": "in_progress", "incomplete_details": None, "output": []}


class ResponseEvents:
    """Chat chunks in, Responses events out. Each output item (the text message, each tool
    call) is added when its first delta arrives and done when the next begins or the stream
    ends; OpenAI streams tool calls one after another."""

    def __init__(self, shape: dict[str, Any]) -> None:
        self.shape = {**shape, "created_at": shape.get("created_at") or int(time.time())}
        self.output: list[dict[str, Any]] = []  # items done
        self.finish_reason: str | None = None
        self._seq = 0
        self._open: dict[str, Any] | None = None  # the item being streamed
        self._open_key: tuple[str, int] | None = None
        self._seen: set[tuple[str, int]] = set()

    def event(self, kind: str, **fields: Any) -> bytes:
        data = {"type": kind, "sequence_number": self._seq, **fields}
        self._seq += 1
        return sse(data, event=kind)

    def start(self) -> list[bytes]:
        snapshot = in_progress(self.shape)
        return [
            self.event("response.created", response=snapshot),
            self.event("response.in_progress", response=snapshot),
        ]

    def feed(self, chunk: ChatChunk) -> list[bytes]:
        out: list[bytes] = []
        self.shape.update(service_tier(chunk.extra))
        for choice in chunk.choices:
            if choice.index == 0:
                out.extend(self._choice(choice))
        return out

    def finish(self, usage: Usage | None) -> tuple[dict[str, Any], list[bytes]]:
        """The final response object and the events that end the stream."""
        out = self._close()
        final = response_json(self.shape, self.output, self.finish_reason, usage)
        kind = "response.completed" if final["status"] == "completed" else "response.incomplete"
        out.append(self.event(kind, response=final))
        return final, out

    def failed(self, exc: SwitchboardError) -> list[bytes]:
        error = {"code": exc.code or exc.type, "message": exc.message}
        failed = {**in_progress(self.shape), "status": "failed", "error": error}
        failed["output"] = self.output
        return [
            self.event("error", code=error["code"], message=exc.message, param=exc.param),
            self.event("response.failed", response=failed),
        ]

    def _choice(self, choice: ChunkChoice) -> list[bytes]:
        out: list[bytes] = []
        reasoning = (choice.delta_extra or {}).get("reasoning_content")
        if isinstance(reasoning, str) and reasoning:
            out.extend(self._reasoning(reasoning))
        if choice.content:
            out.extend(self._part("output_text", choice.content, text_logprobs(choice.extra)))
        refusal = (choice.delta_extra or {}).get("refusal")
        if isinstance(refusal, str) and refusal:
            out.extend(self._part("refusal", refusal))
        for note in text_annotations(choice.delta_extra):
            out.extend(self._annotation(note))
        for call in choice.tool_calls or ():
            out.extend(self._call(call))
        if choice.finish_reason:
            self.finish_reason = choice.finish_reason
        return out

    def _part(self, kind: str, delta: str, logprobs: list[Any] | None = None) -> list[bytes]:
        """A delta of the message's text (`output_text`) or refusal (`refusal`) part."""
        out: list[bytes] = []
        if self._open is None or self._open["type"] != "message":
            out.extend(self._close())
            item = message_item(new_id("msg"), None, "in_progress")
            out.extend(self._add(("message", len(self.output)), item))
        assert self._open is not None
        content = self._open["content"]
        index = next((i for i, p in enumerate(content) if p["type"] == kind), len(content))
        if index == len(content):
            part = text_part("") if kind == "output_text" else refusal_part("")
            out.append(
                self._item_event("response.content_part.added", content_index=index, part=part)
            )
            content.append(part)
        if not delta:
            return out
        content[index][_PART_FIELD[kind]] += delta
        fields: dict[str, Any] = {"content_index": index, "delta": delta}
        if kind == "output_text":
            content[index]["logprobs"].extend(logprobs or ())
            fields["logprobs"] = logprobs or []
        out.append(self._item_event(f"response.{kind}.delta", **fields))
        return out

    def _annotation(self, note: Any) -> list[bytes]:
        """An annotation of the text part (opened, empty, if no text came yet)."""
        out = self._part("output_text", "")
        assert self._open is not None
        content = self._open["content"]
        index = next(i for i, p in enumerate(content) if p["type"] == "output_text")
        notes = content[index]["annotations"]
        notes.append(note)
        added = {"content_index": index, "annotation_index": len(notes) - 1, "annotation": note}
        out.append(self._item_event("response.output_text.annotation.added", **added))
        return out

    def _reasoning(self, delta: str) -> list[bytes]:
        out: list[bytes] = []
        if self._open is None or self._open["type"] != "reasoning":
            out.extend(self._close())
            item = reasoning_item(new_id("rs"), "", "in_progress")
            out.extend(self._add(("reasoning", len(self.output)), item))
        assert self._open is not None
        self._open["content"][0]["text"] += delta
        out.append(self._item_event("response.reasoning_text.delta", content_index=0, delta=delta))
        return out

    def _call(self, delta: dict[str, Any]) -> list[bytes]:
        out: list[bytes] = []
        key = ("call", int(delta.get("index") or 0))
        arguments = (delta.get("function") or {}).get("arguments") or ""
        if key not in self._seen:
            out.extend(self._close())
            out.extend(self._add(key, call_item(new_id("fc"), delta, "", "in_progress")))
        if self._open_key == key and arguments and self._open is not None:
            self._open["arguments"] += arguments
            out.append(self._item_event("response.function_call_arguments.delta", delta=arguments))
        return out

    def _add(self, key: tuple[str, int], item: dict[str, Any]) -> list[bytes]:
        self._seen.add(key)
        self._open, self._open_key = item, key
        return [self.event("response.output_item.added", output_index=len(self.output), item=item)]

    def _item_event(self, kind: str, **fields: Any) -> bytes:
        assert self._open is not None
        return self.event(kind, item_id=self._open["id"], output_index=len(self.output), **fields)

    def _close(self) -> list[bytes]:
        item = self._open
        if item is None:
            return []
        out: list[bytes] = []
        if item["type"] == "message":
            for index, part in enumerate(item["content"]):
                kind, field = part["type"], _PART_FIELD[part["type"]]
                done = {field: part[field]}
                if kind == "output_text":
                    done["logprobs"] = part["logprobs"]
                out.append(self._item_event(f"response.{kind}.done", content_index=index, **done))
                out.append(
                    self._item_event("response.content_part.done", content_index=index, part=part)
                )
        elif item["type"] == "reasoning":
            text = item["content"][0]["text"]
            out.append(self._item_event("response.reasoning_text.done", content_index=0, text=text))
        else:
            out.append(
                self._item_event(
                    "response.function_call_arguments.done",
                    arguments=item["arguments"],
                    name=item["name"],
                )
            )
        item["status"] = "completed"
        out.append(
            self.event("response.output_item.done", output_index=len(self.output), item=item)
        )
        self.output.append(item)
        self._open = self._open_key = None
        return out
