"""Train the embedding complexity router: write switchboard/routing/data/complexity_embedding.json.

Multinomial logistic regression (scikit-learn, training only) on the MiniLM embedding of the
query (384 dimensions, the embedder the cache and RAG use) plus the 17 standardized hand signals
of switchboard/routing/features.py. Same labeled set and split as bench/routing_train.py; C is
picked by 5-fold cross-validation on the training split (the test split is not read).
Deterministic given the embeddings.

    python bench/routing_train_embedding.py
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_score

from switchboard.embeddings.local import MiniLM, default_threads, locate_model
from switchboard.routing.complexity import TIERS
from switchboard.routing.embedding_router import DEFAULT_EMBEDDING_MODEL, FORMAT
from switchboard.routing.features import DENSE_NAMES, extract, view_of_text

DATA = Path(__file__).resolve().parents[1] / "switchboard/routing/data/complexity_queries.jsonl"
GRID_C = (1.0, 3.0, 10.0)


def main() -> None:
    rows = [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines() if line]
    rows = [r for r in rows if r["split"] == "train"]
    texts = [r["text"] for r in rows]
    labels = np.array([[t.value for t in TIERS].index(r["tier"]) for r in rows])
    embeddings, _ = MiniLM(locate_model(), default_threads()).encode(texts)
    dense = np.array([extract(view_of_text(t))[1] for t in texts])
    mean, scale = dense.mean(axis=0), dense.std(axis=0) + 1e-9
    features = np.hstack([embeddings, (dense - mean) / scale])
    folds = StratifiedKFold(5, shuffle=True, random_state=0)
    scores = {
        c: cross_val_score(
            LogisticRegression(C=c, max_iter=5000), features, labels, cv=folds
        ).mean()
        for c in GRID_C
    }
    best = max(GRID_C, key=scores.__getitem__)
    model = LogisticRegression(C=best, max_iter=5000).fit(features, labels)
    out = {
        "format": FORMAT,
        "tiers": [t.value for t in TIERS],
        "embedder": "all-MiniLM-L6-v2",
        "dense_names": list(DENSE_NAMES),
        "dense_mean": [round(float(v), 6) for v in mean],
        "dense_scale": [round(float(v), 6) for v in scale],
        "weights": [[round(float(v), 5) for v in row] for row in model.coef_],
        "bias": [round(float(v), 5) for v in model.intercept_],
        "c": best,
        "cv_accuracy": round(float(scores[best]), 4),
    }
    DEFAULT_EMBEDDING_MODEL.write_text(json.dumps(out, separators=(",", ":")) + "\n")
    print(f"C={best} cv accuracy {scores[best]:.3f} -> {DEFAULT_EMBEDDING_MODEL}")


if __name__ == "__main__":
    main()
