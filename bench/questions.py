"""Question-like texts for the vector index benchmarks: a corpus of distinct questions, and
queries that are variants, paraphrases, near misses of stored ones, or unrelated to all.

    from bench.questions import corpus, queries
    stored = corpus(1_000_000)                   # ~2 s; the same texts for the same seed
    asked = queries(stored, "paraphrase", 1000, within=10_000)

A stored question is one *intent* (a family of bench/question_bank.py and one value per slot)
said in one of the family's phrasings; no intent is stored twice, so the corpus holds no two
ways of asking the same thing. Query kinds (`source` is the stored entry a cache should answer
with, -1 where none should be):

- `variant`: the stored text with two surface edits (case, punctuation, a typo, a greeting, a
  "thanks"), as people retype the same question.
- `paraphrase`: the same intent in another of the family's phrasings.
- `near-miss`: the stored text with one slot changed to an intent that is not stored (another
  tool, city, dish...): a different question worded the same way.
- `unrelated`: a question of a family that is never stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import prod

import numpy as np

from bench.question_bank import FAMILIES, HELD_OUT, POOLS

KINDS = ("variant", "paraphrase", "near-miss", "unrelated")
MAX_SHARE = 0.4  # of a family's intents, at most this share is stored (the rest: near misses)


@dataclass(frozen=True, slots=True)
class Family:
    name: str
    pools: tuple[tuple[str, ...], ...]
    phrasings: tuple[str, ...]

    @property
    def capacity(self) -> int:
        return prod(len(pool) for pool in self.pools)

    def digits(self, code: int) -> list[int]:
        out = []
        for pool in reversed(self.pools):
            code, digit = divmod(code, len(pool))
            out.append(digit)
        return out[::-1]

    def code(self, digits: list[int]) -> int:
        value = 0
        for pool, digit in zip(self.pools, digits, strict=True):
            value = value * len(pool) + digit
        return value

    def valid(self, digits: list[int]) -> bool:
        """A pool used twice (from city to city) must give two different values."""
        seen: dict[int, set[int]] = {}
        for pool, digit in zip(self.pools, digits, strict=True):
            used = seen.setdefault(id(pool), set())
            if digit in used:
                return False
            used.add(digit)
        return True

    def text(self, code: int, phrasing: int) -> str:
        values = [pool[d] for pool, d in zip(self.pools, self.digits(code), strict=True)]
        return self.phrasings[phrasing].format(*values)


def _families(spec: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...]) -> list[Family]:
    return [Family(name, tuple(POOLS[p] for p in pools), phr) for name, pools, phr in spec]


STORED_FAMILIES = _families(FAMILIES)
UNRELATED_FAMILIES = _families(HELD_OUT)


@dataclass(frozen=True, slots=True)
class Corpus:
    texts: list[str]
    family: np.ndarray  # index into STORED_FAMILIES, per entry
    code: np.ndarray  # the intent's slot values (mixed radix), per entry
    phrasing: np.ndarray  # which phrasing the entry is worded in

    def intents(self) -> set[tuple[int, int]]:
        return set(zip(self.family.tolist(), self.code.tolist(), strict=True))


@dataclass(frozen=True, slots=True)
class Queries:
    kind: str
    texts: list[str]
    source: np.ndarray  # the entry that should answer each query, -1: none


def quotas(n: int) -> list[int]:
    """Entries per family: in proportion to the square root of its intents (big families get
    more, small ones are not swamped), never over MAX_SHARE of them."""
    caps = [int(f.capacity * MAX_SHARE) for f in STORED_FAMILIES]
    if n > sum(caps):
        raise ValueError(f"at most {sum(caps):,} questions can be generated, not {n:,}")
    share = [0] * len(caps)
    open_ = set(range(len(caps)))
    left = n
    while left > 0:
        weight = sum(caps[i] ** 0.5 for i in open_)
        for i in sorted(open_):
            share[i] += min(caps[i] - share[i], max(1, round(left * caps[i] ** 0.5 / weight)))
        open_ = {i for i in open_ if share[i] < caps[i]}
        left = n - sum(share)
        while left < 0:  # rounding overshot: take back from the largest
            i = max(range(len(share)), key=share.__getitem__)
            share[i] += left
            left = n - sum(share)
    return share


def corpus(n: int, seed: int = 0) -> Corpus:
    """`n` distinct questions in a random order (the first m are a sample of them all)."""
    rng = np.random.default_rng(seed)
    families, codes, phrasings = [], [], []
    for index, (family, count) in enumerate(zip(STORED_FAMILIES, quotas(n), strict=True)):
        picked: list[int] = []
        while len(picked) < count:
            draw = rng.choice(family.capacity, min(family.capacity, 2 * count), replace=False)
            chosen = set(picked)
            for code in draw.tolist():
                if code not in chosen and family.valid(family.digits(code)):
                    picked.append(code)
                    chosen.add(code)
                    if len(picked) == count:
                        break
        families.append(np.full(count, index, dtype=np.int16))
        codes.append(np.array(picked, dtype=np.int64))
        phrasings.append(rng.integers(0, len(family.phrasings), count).astype(np.int8))
    order = rng.permutation(n)
    family_of = np.concatenate(families)[order]
    code_of = np.concatenate(codes)[order]
    phrasing_of = np.concatenate(phrasings)[order]
    texts = [
        STORED_FAMILIES[f].text(c, p)
        for f, c, p in zip(family_of.tolist(), code_of.tolist(), phrasing_of.tolist(), strict=True)
    ]
    if len(set(texts)) != n:
        raise AssertionError("two intents were worded identically: check the phrasings")
    return Corpus(texts, family_of, code_of, phrasing_of)


_PREFIXES = ("hey, ", "quick question: ", "hi! ", "so ", "ok so ", "question - ", "help: ")
_SUFFIXES = (" thanks", " thx!", " please", " :)", " asap", " (urgent)", " ty")


def _typo(text: str, rng: np.random.Generator) -> str:
    words = text.split(" ")
    long = [i for i, w in enumerate(words) if len(w) >= 5 and w.isalpha()]
    if not long:
        return text
    i = long[int(rng.integers(len(long)))]
    word = words[i]
    j = int(rng.integers(1, len(word) - 2))
    words[i] = word[:j] + word[j + 1] + word[j] + word[j + 2 :]
    return " ".join(words)


def _edit(text: str, rng: np.random.Generator) -> str:
    """Two of: lower case without the final mark, a greeting, a sign-off, a typo (twice)."""
    for choice in rng.choice(5, 2, replace=False).tolist():
        if choice == 0:
            text = text.lower().rstrip("?.!")
        elif choice == 1:
            text = _PREFIXES[int(rng.integers(len(_PREFIXES)))] + text
        elif choice == 2:
            text = text + _SUFFIXES[int(rng.integers(len(_SUFFIXES)))]
        else:
            text = _typo(text, rng)
    return text


def queries(
    stored: Corpus, kind: str, count: int, *, within: int | None = None, seed: int = 1
) -> Queries:
    """`count` queries of one kind, each made from one of the first `within` stored entries
    (so they stay answerable by every prefix of the corpus at least that long)."""
    rng = np.random.default_rng([seed, KINDS.index(kind)])
    limit = min(within or len(stored.texts), len(stored.texts))
    known = set(stored.texts)
    texts: list[str] = []
    source: list[int] = []
    intents = stored.intents() if kind == "near-miss" else set()
    while len(texts) < count:
        if kind == "unrelated":
            family = UNRELATED_FAMILIES[int(rng.integers(len(UNRELATED_FAMILIES)))]
            code = int(rng.integers(family.capacity))
            if not family.valid(family.digits(code)):
                continue
            text, origin = family.text(code, 0), -1
        else:
            entry = int(rng.integers(limit))
            family = STORED_FAMILIES[int(stored.family[entry])]
            code, phrasing = int(stored.code[entry]), int(stored.phrasing[entry])
            origin = entry
            if kind == "variant":
                text = _edit(stored.texts[entry], rng)
            elif kind == "paraphrase":
                others = [p for p in range(len(family.phrasings)) if p != phrasing]
                text = family.text(code, others[int(rng.integers(len(others)))])
            else:  # near-miss: one slot to another value, an intent nobody stored
                digits = family.digits(code)
                slot = int(rng.integers(len(digits)))
                digits[slot] = int(rng.integers(len(family.pools[slot])))
                code = family.code(digits)
                index = STORED_FAMILIES.index(family)
                if not family.valid(digits) or (index, code) in intents:
                    continue
                text, origin = family.text(code, phrasing), -1
        if text in known or text in texts:
            continue
        texts.append(text)
        source.append(origin)
    return Queries(kind, texts, np.array(source, dtype=np.int64))
