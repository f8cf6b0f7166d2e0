"""Scoring maths: normalisation, exact match, token F1, containment, embedding similarity, the
judge's verdict, and dataset parsing."""

from __future__ import annotations

import pytest

from switchboard.embeddings.local import LocalEmbedder
from switchboard.evaluation import scoring
from switchboard.evaluation.dataset import DatasetError, parse_dataset
from switchboard.evaluation.judge import verdict


def test_normalisation_drops_case_punctuation_and_articles() -> None:
    assert scoring.normalize("The  Eiffel Tower!") == "eiffel tower"
    assert scoring.normalize("An apple, a day.") == "apple day"


def test_exact_match_takes_the_best_reference() -> None:
    assert scoring.exact_match("the Paris.", ["Lyon", "paris"]) == 1.0
    assert scoring.exact_match("Paris, France", ["Paris"]) == 0.0


@pytest.mark.parametrize(
    ("answer", "reference", "expected"),
    [
        ("Paris", "Paris", 1.0),
        ("Paris France", "Paris", 2 * (1 / 2 * 1) / (1 / 2 + 1)),  # P=1/2, R=1 -> 2/3
        ("John Backus wrote it", "John Backus", 2 * (2 / 4) * 1 / (2 / 4 + 1)),  # 2/3
        ("Guido van Rossum", "Rossum Guido", 2 * (2 / 3) * 1 / (2 / 3 + 1)),  # 0.8
        ("Tokyo", "Kyoto", 0.0),
        ("", "", 1.0),
        ("the", "Paris", 0.0),  # nothing left after normalisation on one side
    ],
)
def test_token_f1(answer: str, reference: str, expected: float) -> None:
    assert scoring.token_f1(answer, [reference]) == pytest.approx(expected)


def test_f1_counts_repeated_tokens_once_each() -> None:
    # answer "red red red" vs "red blue": one common token -> P=1/3, R=1/2 -> F1=0.4
    assert scoring.token_f1("red red red", ["red blue"]) == pytest.approx(0.4)
    assert scoring.token_f1("x", ["y", "x z"]) == pytest.approx(2 / 3)


def test_contains_needs_whole_tokens() -> None:
    assert scoring.contains("The capital of France is Paris.", ["Paris"]) == 1.0
    assert scoring.contains("Parisian food", ["Paris"]) == 0.0
    assert scoring.contains("anything", ["the"]) == 0.0  # an empty reference never matches


async def test_similarity_ranks_a_paraphrase_above_an_unrelated_answer(
    local_embedder: LocalEmbedder,
) -> None:
    close, far, exact = await scoring.similarities(
        local_embedder,
        ["The capital city of France is Paris", "Bananas are rich in potassium", "Ottawa"],
        [("Paris is France's capital",), ("Paris is France's capital",), ("Ottawa",)],
    )
    assert close > 0.8 > 0.3 > far
    assert exact == pytest.approx(1.0, abs=1e-5)


@pytest.mark.parametrize(
    ("reply", "expected"),
    [("CORRECT", 1.0), ("incorrect.", 0.0), ("Verdict: Correct", 1.0), ("maybe", None)],
)
def test_the_judges_verdict(reply: str, expected: float | None) -> None:
    assert verdict(reply) == expected


def test_datasets_in_json_lines_or_an_array() -> None:
    items = parse_dataset(
        '{"question": "q1", "answer": "a"}\n\n'
        '{"question": "q2", "answers": ["b", "c"], "id": "x"}\n'
    )
    assert [(i.id, i.references) for i in items] == [("1", ("a",)), ("x", ("b", "c"))]
    assert (
        parse_dataset('[{"question": "q", "answer": "a", "document_id": "d"}]')[0].document_id
        == "d"
    )
    with pytest.raises(DatasetError, match="line 2"):
        parse_dataset('{"question": "q", "answer": "a"}\n{oops\n')
    with pytest.raises(DatasetError, match="item 1"):
        parse_dataset('{"question": "q"}')
    with pytest.raises(DatasetError):
        parse_dataset("\n")
