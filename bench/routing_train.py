"""Train the query-complexity classifier and write switchboard/routing/data/complexity_model.json.

Multinomial logistic regression (scikit-learn, training only) over the features in
switchboard/routing/features.py: binary word uni/bigrams (vocabulary: seen in >= 2 training
queries), L2-normalized and scaled, plus standardized hand-made signals. C and the sparse scale
are picked by 5-fold cross-validation on the training split only; the test split is not read.
A temperature fitted on out-of-fold logits calibrates `scores` (argmax is unchanged by it), so
the hand-set context prior below is in calibrated logit units.
Deterministic: the same labelled set gives the same file.

    python bench/routing_train.py
"""

from __future__ import annotations

import argparse
import json
import math
from collections import Counter
from pathlib import Path

import numpy as np
from scipy import sparse as sp
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

from switchboard.routing.complexity import DEFAULT_MODEL_PATH, MODEL_FORMAT, TIERS
from switchboard.routing.features import DENSE_NAMES, extract, view_of_text

DATA = Path(__file__).resolve().parents[1] / "switchboard/routing/data/complexity_queries.jsonl"
MIN_DF = 2
GRID_C = (3.0, 10.0, 30.0)
GRID_SPARSE_SCALE = (1.0, 2.0, 4.0, 8.0)
CV_SEEDS = (0, 1, 2)
# Context prior, set by hand (the labelled set is single-turn): a conversation with ~8k chars of
# earlier turns moves ~0.8 logits from simple to complex; a long system prompt counts half.
CONTEXT = {
    "weights": [-0.5, 0.0, 0.5],
    "prior_chars_unit": 2000.0,
    "system_chars_unit": 4000.0,
    "cap": 2.5,
}

Featurized = list[tuple[set[str], list[float]]]


def load_split(path: Path, split: str) -> tuple[list[str], np.ndarray]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    rows = [r for r in rows if r["split"] == split]
    labels = [[t.value for t in TIERS].index(r["tier"]) for r in rows]
    return [r["text"] for r in rows], np.array(labels)


class Design:
    """The feature matrix layout learnt from training queries: vocabulary and dense stats."""

    def __init__(self, feats: Featurized, sparse_scale: float) -> None:
        df = Counter(name for names, _ in feats for name in names)
        self.vocab = {n: i for i, n in enumerate(sorted(n for n, c in df.items() if c >= MIN_DF))}
        dense = np.array([d for _, d in feats])
        self.mean = dense.mean(axis=0)
        self.scale = dense.std(axis=0)
        self.scale[self.scale == 0] = 1.0
        self.sparse_scale = sparse_scale

    def matrix(self, feats: Featurized) -> sp.csr_matrix:
        rows, cols, vals = [], [], []
        for i, (names, _) in enumerate(feats):
            active = [self.vocab[n] for n in names if n in self.vocab]
            for j in active:
                rows.append(i)
                cols.append(j)
                vals.append(self.sparse_scale / math.sqrt(len(active)))
        words = sp.csr_matrix((vals, (rows, cols)), shape=(len(feats), len(self.vocab)))
        dense = (np.array([d for _, d in feats]) - self.mean) / self.scale
        return sp.hstack([words, sp.csr_matrix(dense)]).tocsr()


def fit(
    feats: Featurized, y: np.ndarray, c: float, scale: float
) -> tuple[Design, LogisticRegression]:
    design = Design(feats, scale)
    model = LogisticRegression(C=c, max_iter=10_000)
    model.fit(design.matrix(feats), y)
    return design, model


def cv_accuracy(feats: Featurized, y: np.ndarray, c: float, scale: float) -> float:
    accs = []
    for seed in CV_SEEDS:
        folds = StratifiedKFold(5, shuffle=True, random_state=seed)
        for tr, te in folds.split(np.zeros(len(y)), y):
            design, model = fit([feats[i] for i in tr], y[tr], c, scale)
            pred = model.predict(design.matrix([feats[i] for i in te]))
            accs.append(float((pred == y[te]).mean()))
    return float(np.mean(accs))


def fit_temperature(feats: Featurized, y: np.ndarray, c: float, scale: float) -> float:
    """The divisor of the logits that minimizes out-of-fold log loss."""
    logits = np.zeros((len(y), 3))
    folds = StratifiedKFold(5, shuffle=True, random_state=CV_SEEDS[0])
    for tr, te in folds.split(np.zeros(len(y)), y):
        design, model = fit([feats[i] for i in tr], y[tr], c, scale)
        logits[te] = model.decision_function(design.matrix([feats[i] for i in te]))

    def log_loss(t: float) -> float:
        z = logits / t
        z = z - z.max(axis=1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        return float(-logp[np.arange(len(y)), y].mean())

    return min((float(t) for t in np.geomspace(0.25, 32, 141)), key=log_loss)


def _r(x: float) -> float:
    return float(f"{x:.5g}")


def export(
    design: Design, model: LogisticRegression, temperature: float, meta: dict[str, object]
) -> dict[str, object]:
    coef = model.coef_
    n_words = len(design.vocab)
    return {
        "format": MODEL_FORMAT,
        "tiers": [t.value for t in TIERS],
        "bias": [_r(b) for b in model.intercept_],
        "sparse_scale": design.sparse_scale,
        "sparse": {n: [_r(coef[k, j]) for k in range(3)] for n, j in design.vocab.items()},
        "dense": {
            "names": list(DENSE_NAMES),
            "mean": [_r(m) for m in design.mean],
            "scale": [_r(s) for s in design.scale],
            "weights": [
                [_r(coef[k, n_words + i]) for k in range(3)] for i in range(len(DENSE_NAMES))
            ],
        },
        "temperature": _r(temperature),
        "context": CONTEXT,
        "trained": meta,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--out", type=Path, default=DEFAULT_MODEL_PATH)
    args = parser.parse_args()

    texts, y = load_split(args.data, "train")
    feats: Featurized = [extract(view_of_text(t)) for t in texts]
    grid = {(c, s): cv_accuracy(feats, y, c, s) for c in GRID_C for s in GRID_SPARSE_SCALE}
    for (c, s), acc in grid.items():
        print(f"C={c:<5g} sparse_scale={s:<4g} cv_accuracy={acc:.4f}")
    (c, s), best = max(grid.items(), key=lambda kv: (round(kv[1], 4), -kv[0][0]))
    design, model = fit(feats, y, c, s)
    temperature = fit_temperature(feats, y, c, s)
    meta: dict[str, object] = {
        "n_train": len(texts),
        "C": c,
        "cv_accuracy": round(best, 4),
        "min_df": MIN_DF,
    }
    body = export(design, model, temperature, meta)
    args.out.write_text(json.dumps(body, sort_keys=True, separators=(",", ":")) + "\n")
    size = args.out.stat().st_size
    print(
        f"chose C={c:g} sparse_scale={s:g} (cv {best:.4f}), temperature {temperature:.3g}; "
        f"{len(design.vocab)} terms, {size / 1024:.0f} KiB -> {args.out}"
    )


if __name__ == "__main__":
    main()
