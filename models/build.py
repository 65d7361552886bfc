"""Build, evaluate and export the shipped on-device models (needs the ``build`` extra).

Usage (from the repository root)::

    python -m models.build            # both models
    python -m models.build --only style

For each model it extracts features with the edge client's own code, fits the linear
weights (scikit-learn logistic regression on the same TF-IDF inputs the model computes),
writes them into the TensorFlow definition of :mod:`models.definitions`, converts it to
``.tflite`` (builtin ops only), then reloads the file in the TensorFlow Lite runtime and
evaluates it on users never seen in training. Outputs, in ``edge_client/assets/models``:
``<name>.tflite``, ``<name>.json`` (sidecar with input spec, SHA-256 and metrics) and
``<name>.md`` (model card). Rebuilding reproduces the metrics (deterministic solver).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold

from edge_client.models import LiteModel
from edge_client.taxonomy import load_taxonomy
from edge_client.text.features import DENSE_FEATURE_NAMES, TextCounts, dense_features, extract
from edge_client.text.hashing import sparse_input
from models import data
from models.cards import write_card
from models.definitions import SparseLinearModule, convert

OUT_DIR = Path(__file__).resolve().parent.parent / "edge_client" / "assets" / "models"
VERSION = "1.0.0"


@dataclass(frozen=True)
class Recipe:
    """Hyper-parameters of one model."""

    name: str
    hash_dim: int
    bigrams: bool
    c: float
    softmax: bool


STYLE = Recipe("style", hash_dim=2**17, bigrams=False, c=10.0, softmax=False)
INTERESTS = Recipe("interests", hash_dim=2**14, bigrams=False, c=20.0, softmax=True)


def log(message: str) -> None:
    """Progress on stderr."""
    print(f"[build {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


@dataclass
class Design:
    """Fitted input transform (IDF) of a recipe."""

    recipe: Recipe
    idf: np.ndarray

    def matrix(self, counts: Sequence[TextCounts]) -> sp.csr_matrix:
        """The exact input the TFLite model computes, as a sparse matrix."""
        d = self.recipe.hash_dim
        rows, cols, vals = [], [], []
        for i, c in enumerate(counts):
            bags = (c.unigrams, c.bigrams) if self.recipe.bigrams else (c.unigrams,)
            idx, val = sparse_input(bags, d)
            v = val.astype(np.float64) * self.idf[idx]
            norm = np.sqrt((v * v).sum()) + 1e-12
            rows.append(np.full(len(idx), i))
            cols.append(idx)
            vals.append(v / norm)
        return sp.csr_matrix(
            (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
            shape=(len(counts), d),
        )


def fit_design(recipe: Recipe, counts: Sequence[TextCounts]) -> Design:
    """IDF (smoothed, as scikit-learn's ``TfidfTransformer``) from training counts."""
    df = np.zeros(recipe.hash_dim)
    for c in counts:
        bags = (c.unigrams, c.bigrams) if recipe.bigrams else (c.unigrams,)
        idx, _ = sparse_input(bags, recipe.hash_dim)
        df[idx] += 1
    n = len(counts)
    return Design(recipe, np.log((1 + n) / (1 + df)) + 1.0)


def fit(design: Design, counts: Sequence[TextCounts], y: np.ndarray) -> LogisticRegression:
    """Logistic regression on the model's inputs (deterministic lbfgs)."""
    clf = LogisticRegression(C=design.recipe.c, max_iter=3000)
    clf.fit(design.matrix(counts), y)
    return clf


def export(design: Design, clf: LogisticRegression, labels: Sequence[str]) -> Path:
    """Write ``<name>.tflite`` and its sidecar; return the ``.tflite`` path."""
    r = design.recipe
    module = SparseLinearModule(
        idf=design.idf,
        w=np.asarray(clf.coef_, np.float64).T.copy(),  # [D, classes or 1]
        b=np.asarray(clf.intercept_, np.float64),
        softmax=r.softmax,
    )
    with tempfile.TemporaryDirectory() as tmp:
        flatbuffer = convert(module, Path(tmp))
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    path = OUT_DIR / f"{r.name}.tflite"
    path.write_bytes(flatbuffer)
    sidecar = {
        "name": r.name,
        "version": VERSION,
        "hash_dim": r.hash_dim,
        "bigrams": r.bigrams,
        "head": "softmax" if r.softmax else "sigmoid",
        "labels": list(labels),
        "sha256": hashlib.sha256(flatbuffer).hexdigest(),
    }
    path.with_suffix(".json").write_text(json.dumps(sidecar, indent=2) + "\n", encoding="utf-8")
    return path


def add_field(path: Path, key: str, value: object) -> None:
    """Record a field in the sidecar (metrics, reference shares; not covered by the SHA-256)."""
    side = path.with_suffix(".json")
    raw = json.loads(side.read_text(encoding="utf-8"))
    raw[key] = value
    side.write_text(json.dumps(raw, indent=2) + "\n", encoding="utf-8")


def add_metrics(path: Path, metrics: dict[str, object]) -> None:
    """Record metrics in the sidecar."""
    add_field(path, "metrics", metrics)


def build_style() -> dict[str, object]:
    """Decision style: T (analytical) vs F of MBTI users, split by user."""
    users = data.load_mbti()
    log(f"style: {len(users)} users; extracting features")
    full = [extract("\n".join(u.posts)) for u in users]
    short = [extract(data.first_words(u.posts, 300)) for u in users]
    y = np.array([u.analytical for u in users], dtype=np.int64)
    train, held = data.split_mbti(users)

    log("style: 5-fold cross-validation by user (recipe check, scikit-learn)")
    cv_full, cv_short = [], []
    for tr, te in StratifiedKFold(5, shuffle=True, random_state=0).split(full, y):
        design = fit_design(STYLE, [full[i] for i in tr])
        clf = fit(design, [full[i] for i in tr], y[tr])
        cv_full.append(
            roc_auc_score(y[te], clf.decision_function(design.matrix([full[i] for i in te])))
        )
        cv_short.append(
            roc_auc_score(y[te], clf.decision_function(design.matrix([short[i] for i in te])))
        )

    log(f"style: fitting on {len(train)} users, holding out {len(held)}")
    design = fit_design(STYLE, [full[i] for i in train])
    clf = fit(design, [full[i] for i in train], y[train])
    path = export(design, clf, ["analytical"])
    shares = np.mean([dense_features(full[i]) for i in train], axis=0)
    reference = {
        n: round(float(v), 3)
        for n, v in zip(DENSE_FEATURE_NAMES, shares, strict=True)
        if n.startswith("pct_")
    }
    add_field(path, "category_reference", reference)
    log(f"style: wrote {path} ({path.stat().st_size} bytes); evaluating in the TFLite runtime")
    model = LiteModel(path)
    p_full = np.concatenate(
        [model.predict([full[i] for i in held[s : s + 64]])[:, 0] for s in range(0, len(held), 64)]
    )
    p_short = np.concatenate(
        [model.predict([short[i] for i in held[s : s + 64]])[:, 0] for s in range(0, len(held), 64)]
    )
    metrics: dict[str, object] = {
        "heldout_users": len(held),
        "train_users": len(train),
        "auc_full_history": round(float(roc_auc_score(y[held], p_full)), 4),
        "auc_first_300_words": round(float(roc_auc_score(y[held], p_short)), 4),
        "cv5_auc_full_history": round(float(np.mean(cv_full)), 4),
        "cv5_auc_first_300_words": round(float(np.mean(cv_short)), 4),
        "size_bytes": path.stat().st_size,
    }
    add_metrics(path, metrics)
    write_card(path, metrics)
    log(f"style: {metrics}")
    return metrics


def _accuracy(model: LiteModel, counts: list[TextCounts], y: np.ndarray) -> tuple[float, float]:
    probs = np.concatenate([model.predict(counts[s : s + 256]) for s in range(0, len(counts), 256)])
    top = np.argsort(-probs, axis=1)
    return float((top[:, 0] == y).mean()), float((top[:, :3] == y[:, None]).any(axis=1).mean())


def build_interests() -> dict[str, object]:
    """Interests: 20 Newsgroups.

    The shipped model is trained on the training posts of authors who never appear in the
    test split (no author in both). For comparison with the published reference (which
    trains on the whole training split), the same recipe is also fitted on the whole
    training split and measured on the same test split; that model is not shipped.
    """
    taxonomy = load_taxonomy()
    labels = list(taxonomy.labels)
    index = {g: i for i, g in enumerate(labels)}
    all_train = data.load_news("train")
    train_posts, test_posts = data.split_news(all_train, data.load_news("test"))
    log(
        f"interests: {len(train_posts)} of {len(all_train)} training posts by authors absent "
        f"from the {len(test_posts)} test posts; features"
    )
    test_authors = {p.author for p in test_posts}
    all_counts = [extract(data.news_text(p)) for p in all_train]
    train = [c for p, c in zip(all_train, all_counts, strict=True) if p.author not in test_authors]
    test = [extract(data.news_text(p)) for p in test_posts]
    y_all = np.array([index[p.group] for p in all_train])
    y_train = np.array([index[p.group] for p in train_posts])
    y_test = np.array([index[p.group] for p in test_posts])

    log("interests: reference protocol (whole training split, authors may overlap)")
    design = fit_design(INTERESTS, all_counts)
    clf = fit(design, all_counts, y_all)
    export(design, clf, labels)
    overlap_acc, _ = _accuracy(LiteModel(OUT_DIR / f"{INTERESTS.name}.tflite"), test, y_test)

    log("interests: shipped model (authors disjoint from the test split)")
    design = fit_design(INTERESTS, train)
    clf = fit(design, train, y_train)
    path = export(design, clf, labels)
    model = LiteModel(path)
    acc, top3 = _accuracy(model, test, y_test)
    metrics: dict[str, object] = {
        "train_posts": len(train_posts),
        "test_posts": len(test_posts),
        "accuracy_unseen_authors": round(acc, 4),
        "top3_accuracy_unseen_authors": round(top3, 4),
        "accuracy_reference_protocol": round(overlap_acc, 4),
        "size_bytes": path.stat().st_size,
    }
    add_metrics(path, metrics)
    write_card(path, metrics)
    log(f"interests: {metrics}")
    return metrics


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=["style", "interests"], help="build one model")
    args = parser.parse_args(argv)
    if not (data.data_dir() / "mbti").is_dir():
        print(f"shared data not found at {data.data_dir()} (set EDGEPROF_DATA)", file=sys.stderr)
        return 2
    if args.only in (None, "style"):
        build_style()
    if args.only in (None, "interests"):
        build_interests()
    return 0


if __name__ == "__main__":
    sys.exit(main())
