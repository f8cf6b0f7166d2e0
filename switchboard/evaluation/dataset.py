"""Evaluation datasets: JSON Lines (or one JSON array) of questions with reference answers.

Each item: `question`, and `answer` (one reference) or `answers` (several, any may match);
optional `id` and `document_id` (the source a RAG answer should retrieve).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

MAX_ITEMS = 100_000


class DatasetError(ValueError):
    """The dataset cannot be read: the message names the line."""


class ItemIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str | None = Field(None, max_length=200)
    question: str = Field(min_length=1, max_length=20_000)
    answer: str | None = Field(None, max_length=20_000)
    answers: list[str] | None = Field(None, max_length=100)
    document_id: str | None = Field(None, max_length=200)

    @model_validator(mode="after")
    def _has_reference(self) -> ItemIn:
        if not self.answer and not self.answers:
            raise ValueError("an item needs `answer` or `answers`")
        return self


@dataclass(frozen=True, slots=True)
class EvalItem:
    id: str
    question: str
    references: tuple[str, ...]
    document_id: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "question": self.question,
            "answers": list(self.references),
            "document_id": self.document_id,
        }


def item_from(data: Any, position: int) -> EvalItem:
    try:
        parsed = ItemIn.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "item"
        raise DatasetError(f"item {position}: {where}: {first['msg']}") from None
    refs = tuple(parsed.answers or ()) + ((parsed.answer,) if parsed.answer else ())
    return EvalItem(parsed.id or str(position), parsed.question, refs, parsed.document_id)


def parse_dataset(text: str) -> list[EvalItem]:
    stripped = text.lstrip()
    if stripped.startswith("["):
        try:
            rows = json.loads(stripped)
        except json.JSONDecodeError as exc:
            raise DatasetError(f"not valid JSON: {exc}") from None
    else:
        rows = []
        for number, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise DatasetError(f"line {number}: not valid JSON: {exc.msg}") from None
    if not rows:
        raise DatasetError("the dataset holds no items")
    if len(rows) > MAX_ITEMS:
        raise DatasetError(f"more than {MAX_ITEMS} items")
    return [item_from(row, i) for i, row in enumerate(rows, 1)]


def load_dataset(path: Path) -> list[EvalItem]:
    return parse_dataset(path.read_text(encoding="utf-8"))
