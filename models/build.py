"""Build, evaluate and export the shipped on-device models (needs the ``build`` extra).

Usage (from the repository root)::

    python -m models.build            # both models
    python -m models.build --only style

For each model it extracts features with the edge client's own code, fits the weights
(scikit-learn logistic regression on the same TF-IDF inputs the model computes; for
interests the recipe of :mod:`models.interests`: encoder rows, head, temperature), writes
them into the TensorFlow definitions of :mod:`models.definitions`, converts them to
``.tflite`` (builtin ops only), then reloads the file in the TensorFlow Lite runtime and
evaluates it on users and texts never seen in training. Outputs, in
``edge_client/assets/models``: ``<name>.tflite``, ``<name>.json`` (sidecar with input spec,
SHA-256 and metrics) and ``<name>.md`` (model card). Rebuilding is bit-identical
(deterministic solvers, one BLAS thread).
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
from threadpoolctl import threadpool_limits

from edge_client.models import LiteModel
from edge_client.taxonomy import load_taxonomy
from edge_client.text.features import DENSE_FEATURE_NAMES, TextCounts, dense_features, extract
from edge_client.text.hashing import sparse_input
from models import data, interests
from models.cards import write_card
from models.definitions import (
    EMBEDDING_SIGNATURES,
    RESIDUAL_SIGNATURES,
    EmbeddingBagModule,
    HashedResidualModule,
    convert,
)

OUT_DIR = Path(__file__).resolve().parent.parent / "edge_client" / "assets" / "models"
VERSION = "2.0.0"
INTERESTS_VERSION = "2.1.0"


@dataclass(frozen=True)
class Recipe:
    """Hyper-parameters of one model.

    ``residual_dim`` buckets of trainable residual (what federated rounds exchange) and one
    int8 scale per ``scale_block`` buckets of the frozen weights: chosen by
    ``scripts/bench_update_size.py`` (a 2^13 residual adapts as well as retraining all
    2^17 weights; 64-bucket blocks quantize without loss of held-out AUC).
    """

    name: str
    hash_dim: int
    bigrams: bool
    c: float
    softmax: bool
    residual_dim: int = 2**13
    scale_block: int = 64


STYLE = Recipe("style", hash_dim=2**17, bigrams=False, c=10.0, softmax=False)


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


def quantize_blocks(w: np.ndarray, block: int) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric int8 codes ``[D, C]`` and one float32 scale per block of ``block`` rows.

    Each block's scale is its largest magnitude over 127 (1 for an all-zero block), so
    ``codes[i] * scale[i // block]`` is within half a step of ``w[i]``.
    """
    rows = np.asarray(w, np.float64).reshape(-1, block * w.shape[1])
    scale = np.abs(rows).max(axis=1) / 127.0
    scale[scale == 0] = 1.0
    codes = np.clip(np.rint(rows / scale[:, None]), -127, 127).astype(np.int8)
    return codes.reshape(w.shape), scale.astype(np.float32)


def export(design: Design, clf: LogisticRegression, labels: Sequence[str]) -> Path:
    """Write ``<name>.tflite`` and its sidecar; return the ``.tflite`` path.

    The fitted weights become the frozen int8 layer; the residual starts at zero and the
    bias at the fitted intercept.
    """
    r = design.recipe
    codes, scale = quantize_blocks(np.asarray(clf.coef_, np.float64).T, r.scale_block)
    classes = codes.shape[1]
    module = HashedResidualModule(
        idf=design.idf,
        codes=codes,
        scale=scale,
        w=np.zeros((r.residual_dim, classes), np.float32),
        b=np.asarray(clf.intercept_, np.float64),
        softmax=r.softmax,
    )
    with tempfile.TemporaryDirectory() as tmp:
        flatbuffer = convert(module, Path(tmp), signatures=RESIDUAL_SIGNATURES)
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    path = OUT_DIR / f"{r.name}.tflite"
    path.write_bytes(flatbuffer)
    sidecar = {
        "name": r.name,
        "version": VERSION,
        "architecture": "hashed_residual",
        "hash_dim": r.hash_dim,
        "bigrams": r.bigrams,
        "head": "softmax" if r.softmax else "sigmoid",
        "residual_dim": r.residual_dim,
        "scale_block": r.scale_block,
        "trainable_values": (r.residual_dim + 1) * classes,
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


def _auc(
    y: np.ndarray, clf: LogisticRegression, design: Design, counts: Sequence[TextCounts]
) -> float:
    return round(float(roc_auc_score(y, clf.decision_function(design.matrix(counts)))), 4)


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
        # The same held-out users scored with the unquantized float32 weights (scikit-learn).
        "float32_auc_full_history": _auc(y[held], clf, design, [full[i] for i in held]),
        "float32_auc_first_300_words": _auc(y[held], clf, design, [short[i] for i in held]),
        "trainable_values": (STYLE.residual_dim + 1) * len(clf.intercept_),
        "size_bytes": path.stat().st_size,
    }
    add_metrics(path, metrics)
    write_card(path, metrics)
    log(f"style: {metrics}")
    return metrics


def _texts_counts(docs: Sequence[data.Doc]) -> list[TextCounts]:
    return [extract(d.text) for d in docs]


def export_interests(model: interests.InterestModel, out_dir: Path = OUT_DIR) -> Path:
    """Write ``interests.tflite`` and its sidecar into ``out_dir`` from a fitted model."""
    module = EmbeddingBagModule(
        idf=model.idf,
        codes=model.codes,
        scale=model.scale,
        sub_bias=model.sub_bias,
        aggregation=model.aggregation,
        centre=model.centre,
        whitening=model.whitening,
        floor=interests.LOG_PROB_FLOOR,
        w=model.w,
        b=model.b,
        temperature=model.temperature,
    )
    with tempfile.TemporaryDirectory() as tmp:
        flatbuffer = convert(module, Path(tmp), signatures=EMBEDDING_SIGNATURES)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "interests.tflite"
    path.write_bytes(flatbuffer)
    sidecar = {
        "name": "interests",
        "version": INTERESTS_VERSION,
        "architecture": "embedding_bag",
        "hash_dim": int(model.idf.shape[0]),
        "bigrams": False,
        "head": "softmax",
        "embedding_dim": int(model.codes.shape[1]),
        "sub_labels": list(model.sub_label_names),
        "trainable_values": model.trainable_values,
        "log_prob_floor": interests.LOG_PROB_FLOOR,
        "whitening_ridge": interests.WHITENING_RIDGE,
        "temperature": model.temperature,
        "labels": list(model.labels),
        "sha256": hashlib.sha256(flatbuffer).hexdigest(),
    }
    path.with_suffix(".json").write_text(json.dumps(sidecar, indent=2) + "\n", encoding="utf-8")
    return path


def _lite_probs(model: LiteModel, counts: Sequence[TextCounts]) -> np.ndarray:
    parts = [model.predict(counts[s : s + 256]) for s in range(0, len(counts), 256)]
    return np.concatenate(parts).astype(np.float64)


def build_interests() -> dict[str, object]:
    """Interests: reddit-top2013 groups, AG News and 20 Newsgroups, one model.

    Training: the three corpora's training splits (20 Newsgroups: only authors absent from
    its test split), minus a validation part (1 in 20; by author for 20 Newsgroups) that
    sets the temperature. Evaluation, in the TensorFlow Lite runtime, on each corpus's own
    test split. The same recipe fitted without AG News (not shipped) measures how well the
    model reads a genre it never saw.
    """
    taxonomy = load_taxonomy()
    labels = list(taxonomy.labels)
    corpus = data.interest_corpus()
    log(
        f"interests: {len(corpus.train)} training and {len(corpus.validation)} validation "
        "documents; features"
    )
    train = _texts_counts(corpus.train)
    validation = _texts_counts(corpus.validation)
    tests = {source: _texts_counts(docs) for source, docs in corpus.test.items()}
    log("interests: fitting the encoder (logistic regression) and the temperature")
    model = interests.fit_model(train, corpus.train, validation, corpus.validation, labels)
    path = export_interests(model)
    log(f"interests: wrote {path} ({path.stat().st_size} bytes); evaluating in TFLite")
    lite = LiteModel(path)
    metrics = interests.evaluate(
        {source: _lite_probs(lite, counts) for source, counts in tests.items()},
        corpus.test,
        labels,
        taxonomy,
    )
    log("interests: the same recipe without AG News (not shipped), for genre transfer")
    keep = [i for i, d in enumerate(corpus.train) if d.source is not data.Source.AGNEWS]
    keep_val = [i for i, d in enumerate(corpus.validation) if d.source is not data.Source.AGNEWS]
    no_news = interests.fit_model(
        [train[i] for i in keep],
        [corpus.train[i] for i in keep],
        [validation[i] for i in keep_val],
        [corpus.validation[i] for i in keep_val],
        labels,
    )
    x_news = interests.design_matrix(tests[data.Source.AGNEWS], no_news.idf)
    transfer = interests.agnews_transfer(
        interests.softmax(interests.forward(no_news, x_news)),
        corpus.test[data.Source.AGNEWS],
        labels,
        taxonomy,
    )
    metrics.update({f"without_agnews_{k}": v for k, v in transfer.items()})
    metrics.update(
        {
            "train_documents": len(corpus.train),
            "validation_documents": len(corpus.validation),
            "temperature": model.temperature,
            "trainable_values": model.trainable_values,
            "size_bytes": path.stat().st_size,
        }
    )
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
    # One BLAS thread: the solvers' sums then run in one order, so rebuilds are bit-identical.
    with threadpool_limits(limits=1):
        if args.only in (None, "style"):
            build_style()
        if args.only in (None, "interests"):
            build_interests()
    return 0


if __name__ == "__main__":
    sys.exit(main())
