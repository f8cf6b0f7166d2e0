"""Answer scores against references: SQuAD's normalisation, exact match and token F1 (the best
over the references), containment, and cosine similarity of embeddings."""

from __future__ import annotations

import re
import string
from collections import Counter

import numpy as np

from switchboard.embeddings.base import Embedder

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCTUATION = str.maketrans("", "", string.punctuation)


def normalize(text: str) -> str:
    """Lower case, no punctuation, no articles, single spaces (SQuAD's evaluation)."""
    text = text.lower().translate(_PUNCTUATION)
    return " ".join(_ARTICLES.sub(" ", text).split())


def exact_match(answer: str, references: tuple[str, ...] | list[str]) -> float:
    norm = normalize(answer)
    return float(any(norm == normalize(ref) for ref in references))


def _f1(answer: str, reference: str) -> float:
    got, want = normalize(answer).split(), normalize(reference).split()
    if not got or not want:
        return float(got == want)
    common = sum((Counter(got) & Counter(want)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(got), common / len(want)
    return 2 * precision * recall / (precision + recall)


def token_f1(answer: str, references: tuple[str, ...] | list[str]) -> float:
    return max((_f1(answer, ref) for ref in references), default=0.0)


def contains(answer: str, references: tuple[str, ...] | list[str]) -> float:
    """1.0 when a normalised reference appears within the normalised answer (for verbose
    models, whose right answers fail exact match)."""
    norm = f" {normalize(answer)} "
    return float(any(f" {normalize(ref)} " in norm for ref in references if normalize(ref)))


async def similarities(
    embedder: Embedder, answers: list[str], references: list[tuple[str, ...]]
) -> list[float]:
    """Per answer, the best cosine similarity to its references (unit vectors: a dot)."""
    flat = [ref for refs in references for ref in refs]
    vectors = await embedder.embed([*answers, *flat])
    answer_vecs, ref_vecs = vectors[: len(answers)], vectors[len(answers) :]
    out, start = [], 0
    for i, refs in enumerate(references):
        block = ref_vecs[start : start + len(refs)]
        start += len(refs)
        out.append(float(np.max(block @ answer_vecs[i])) if len(refs) else 0.0)
    return out
