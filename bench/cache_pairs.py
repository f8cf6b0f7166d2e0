"""The labeled question pairs of bench/cache_eval.py, and which of them may tune what.

Files (bench/data/, tab-separated, one pair a line, written for this project):
- `cache_pairs_paraphrase.tsv` (A, B), `cache_pairs_negative.tsv` (kind, A, B),
  `cache_pairs_context.tsv` (A's context, B's context, the same last message): the first set,
  which the guard was written against.
- `cache_pairs_heldout.tsv`, `cache_pairs_fresh.tsv` (kind, A, B): the first and second
  held-out sets. Each caught something (the first: phrasal opposites, negating prefixes; the
  second: opposite verbs the guard did not know, and the threshold's 70% goal) and was then used
  to change the guard, the normalisation or the threshold rule: they are tuning data now.
- `cache_pairs_test.tsv` (kind, A, B; kind `context` has four columns: kind, A's context, B's
  context, the last message): the third held-out set, committed before it was ever evaluated,
  after the guard, the normalisation and the threshold rule were frozen. Its misses then
  changed the guard (relative dates, hyphenated prefixes, number words ...): tuning data now.
- `cache_pairs_test2.tsv` (the same columns): the fourth held-out set, committed before it was
  ever evaluated, after the method was frozen again.

`kind` is `paraphrase` for a true paraphrase, else how a hard negative differs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from switchboard.domain import Message

DATA = Path(__file__).parent / "data"
TEST = "cache_pairs_test2.tsv"


@dataclass(slots=True)
class Pair:
    kind: str  # "paraphrase" or the way a negative differs
    a: list[Message]
    b: list[Message]

    @property
    def positive(self) -> bool:
        return self.kind == "paraphrase"


def _context(text: str, last: str) -> list[Message]:
    if text.startswith("Previous turn: "):
        asked = text.removeprefix("Previous turn: ").strip('"')
        return [
            Message("user", asked),
            Message("assistant", "(the earlier answer)"),
            Message("user", last),
        ]
    return [Message("system", text), Message("user", last)]


def load_labeled(name: str) -> list[Pair]:
    pairs = []
    for line in (DATA / name).read_text().splitlines():
        if not line.strip():
            continue
        fields = line.split("\t")
        if fields[0] == "context":
            _, a, b, last = fields
            pairs.append(Pair("context", _context(a, last), _context(b, last)))
            continue
        kind, a, b = fields
        pairs.append(Pair(kind, [Message("user", a)], [Message("user", b)]))
    return pairs


def load_first() -> list[Pair]:
    pairs = []
    for line in (DATA / "cache_pairs_paraphrase.tsv").read_text().splitlines():
        a, b = line.split("\t")
        pairs.append(Pair("paraphrase", [Message("user", a)], [Message("user", b)]))
    for line in (DATA / "cache_pairs_negative.tsv").read_text().splitlines():
        kind, a, b = line.split("\t")
        pairs.append(Pair(kind, [Message("user", a)], [Message("user", b)]))
    for line in (DATA / "cache_pairs_context.tsv").read_text().splitlines():
        a, b, last = line.split("\t")
        pairs.append(Pair("context", _context(a, last), _context(b, last)))
    return pairs


def load_tuning() -> list[Pair]:
    """Every pair that has been used to change the method: the first set and the three
    earlier held-out sets (871 pairs)."""
    return (
        load_first()
        + load_labeled("cache_pairs_heldout.tsv")
        + load_labeled("cache_pairs_fresh.tsv")
        + load_labeled("cache_pairs_test.tsv")
    )


def load_test() -> list[Pair]:
    """The fourth held-out set: never used to change anything (empty until it is written)."""
    return load_labeled(TEST) if (DATA / TEST).exists() else []
