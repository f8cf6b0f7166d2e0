"""The grounded prompt (numbered sources, then the question) and the citations of an answer.

The model is asked to cite sources as [n]; the gateway then names the sources the answer
cited, or every source it was given when it cited none, so that an answer always says where
it comes from, whatever the model's discipline.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from switchboard.domain import ChatRequest, Message
from switchboard.rag.models import Source

INSTRUCTIONS = (
    "Answer the question using only the numbered sources below. Cite every source you use "
    "by its number in square brackets, like [1]. If the sources do not contain the answer, "
    "say that you do not know."
)
_MARKER = re.compile(r"\[(\d{1,3})\]")


@dataclass(frozen=True, slots=True)
class Citation:
    number: int  # 1-based, as the prompt numbered the sources
    source: Source

    def public(self) -> dict[str, object]:
        s = self.source
        return {"n": self.number, "chunk_id": s.chunk_id, "title": s.title, "page": s.page}


def label(source: Source) -> str:
    title = source.title or source.document_id
    return f"{title}, p. {source.page}" if source.page is not None else title


def grounded_messages(question: str, sources: list[Source]) -> list[Message]:
    blocks = [f"[{i}] {label(s)}\n{s.text}" for i, s in enumerate(sources, 1)]
    context = "\n\n".join(blocks) if blocks else "(no sources found)"
    return [
        Message("system", f"{INSTRUCTIONS}\n\nSources:\n\n{context}"),
        Message("user", question),
    ]


def grounded_request(
    model: str,
    question: str,
    sources: list[Source],
    *,
    stream: bool,
    max_tokens: int | None = None,
    temperature: float | None = None,
) -> ChatRequest:
    return ChatRequest(
        model=model,
        messages=grounded_messages(question, sources),
        stream=stream,
        include_usage=stream,
        max_tokens=max_tokens,
        temperature=temperature,
    )


def citations(answer: str, sources: list[Source]) -> list[Citation]:
    """The sources the answer cites by [n], in order of first mention; all of them if none."""
    numbers: list[int] = []
    for match in _MARKER.finditer(answer):
        n = int(match.group(1))
        if 1 <= n <= len(sources) and n not in numbers:
            numbers.append(n)
    if not numbers:
        numbers = list(range(1, len(sources) + 1))
    return [Citation(n, sources[n - 1]) for n in numbers]


def sources_trailer(cited: list[Citation]) -> str:
    """The line appended to an answer: "Sources: [1] Title, p. 2; [3] Other"."""
    if not cited:
        return ""
    return "\n\nSources: " + "; ".join(f"[{c.number}] {label(c.source)}" for c in cited)
