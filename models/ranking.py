"""TensorFlow definition and build of the on-device ranking model (needs the ``build`` extra).

Usage (from the repository root)::

    python -m models.ranking

The ranking model scores one (profile, item variant) pair per row of a dense feature
matrix ``x`` ``[B, 2N + E]`` laid out by :mod:`edge_client.selection.features`:

* ``u`` = ``x[:, :N]``: the profile's allowed interest scores over the ``N`` taxonomy nodes
  the interest model predicts (zero when personalization is off or the item is sensitive);
* ``m`` = ``x[:, N:2N]``: the item's membership of those nodes (1 inside the node's
  subtree, 0.5 when the item's category is broader than the node);
* ``e`` = ``x[:, 2N:]``: dense features (popularity log-odds, style congruence, variant
  indicators, sponsored flag, fatigue, time-of-day and device-class affinity).

``logit = sum((u @ W) * m) + e @ v + b`` (a bilinear interest-affinity term plus a logistic
term), ``p = sigmoid(logit)``. Signatures, in TensorFlow Lite builtin ops only so the same
file infers and trains under LiteRT and tflite-runtime:

``infer(x) -> probs, logits``; ``train(x, y, lr, l2) -> loss`` (one SGD step on the mean
binary cross-entropy plus ``l2/2 * (||W - W0||^2 + ||v - v0||^2)``, gradients written by
hand); ``get_weights() -> W, v, b``; ``set_weights(W, v, b) -> ok``.

The initial weights are a documented prior, not fitted to any corpus: ``W0 = 4 I`` (an item
in a category the person is interested in ranks by that interest), popularity enters with
weight 1 (its log-odds), the congruence weight starts at ``ln 1.4`` (Matz et al. 2017:
psychologically congruent messages raised clicks by up to 40%), the two context affinities
(log-lifts of the person's own engagement at this time of day / on this device) with weight
1; everything else starts at 0 and is learned on the device with the ``train`` signature.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import tensorflow as tf

from edge_client.selection.features import DENSE_FEATURES, DenseFeature, label_node_order
from edge_client.taxonomy import load_taxonomy
from models.definitions import convert

__all__ = ["SIGNATURES", "VERSION", "RankingModule", "build", "initial_weights"]

OUT_DIR = Path(__file__).resolve().parent.parent / "edge_client" / "assets" / "models"
VERSION = "1.1.0"
SIGNATURES: tuple[str, ...] = ("infer", "train", "get_weights", "set_weights")
INTEREST_PRIOR = 4.0
BASE_RATE = 0.05
_PRIOR = {
    DenseFeature.POPULARITY: 1.0,
    DenseFeature.CONGRUENCE: math.log(1.4),
    # A context log-lift enters with weight 1: an item whose category this person engages
    # with twice as often at this time of day (or on this device) gets twice the odds.
    DenseFeature.TIME_AFFINITY: 1.0,
    DenseFeature.DEVICE_AFFINITY: 1.0,
}


class RankingModule(tf.Module):  # type: ignore[misc]  # tf.Module is untyped
    """Bilinear-logistic ranking model, exportable to TensorFlow Lite with a train signature.

    Parameters
    ----------
    w, v, b : numpy.ndarray
        Initial weights ``[N, N]``, ``[E]`` and ``[]``; they are also the L2 anchor.
    """

    def __init__(self, *, w: np.ndarray, v: np.ndarray, b: np.ndarray) -> None:
        super().__init__()
        self.n = int(w.shape[0])
        self.e = int(v.shape[0])
        self.w0 = tf.constant(w.astype(np.float32))
        self.v0 = tf.constant(v.astype(np.float32))
        self.w = tf.Variable(w.astype(np.float32), name="w")
        self.v = tf.Variable(v.astype(np.float32), name="v")
        self.b = tf.Variable(b.astype(np.float32).reshape(()), name="b")
        x = tf.TensorSpec([None, 2 * self.n + self.e], tf.float32)
        scalar = tf.TensorSpec([], tf.float32)
        self.infer = tf.function(self._infer, input_signature=[x])
        self.train = tf.function(
            self._train, input_signature=[x, tf.TensorSpec([None], tf.float32), scalar, scalar]
        )
        self.get_weights = tf.function(self._get_weights, input_signature=[])
        self.set_weights = tf.function(
            self._set_weights,
            input_signature=[
                tf.TensorSpec([self.n, self.n], tf.float32),
                tf.TensorSpec([self.e], tf.float32),
                scalar,
            ],
        )

    def _split(self, x: Any) -> tuple[Any, Any, Any]:
        n = self.n
        return x[:, :n], x[:, n : 2 * n], x[:, 2 * n :]

    def _logits(self, u: Any, m: Any, e: Any) -> Any:
        inter = tf.reduce_sum(tf.matmul(u, self.w) * m, axis=1)
        dense = tf.reduce_sum(e * tf.expand_dims(self.v, 0), axis=1)
        return inter + dense + self.b

    def _infer(self, x: Any) -> dict[str, Any]:
        logits = self._logits(*self._split(x))
        return {"probs": tf.sigmoid(logits), "logits": logits}

    def _train(self, x: Any, y: Any, lr: Any, l2: Any) -> dict[str, Any]:
        u, m, e = self._split(x)
        p = tf.sigmoid(self._logits(u, m, e))
        n = tf.maximum(tf.cast(tf.shape(x)[0], tf.float32), 1.0)
        eps = 1e-7
        ce = -tf.reduce_sum(y * tf.math.log(p + eps) + (1.0 - y) * tf.math.log(1.0 - p + eps))
        dw_anchor = self.w - self.w0
        dv_anchor = self.v - self.v0
        penalty = tf.reduce_sum(dw_anchor * dw_anchor) + tf.reduce_sum(dv_anchor * dv_anchor)
        loss = ce / n + 0.5 * l2 * penalty
        g = (p - y) / n  # dLoss/dlogit, [B]
        gm = m * tf.expand_dims(g, 1)  # [B, N]
        dw = tf.matmul(u, gm, transpose_a=True)  # [N, N]
        dv = tf.reduce_sum(e * tf.expand_dims(g, 1), axis=0)  # [E]
        self.w.assign_sub(lr * (dw + l2 * dw_anchor))
        self.v.assign_sub(lr * (dv + l2 * dv_anchor))
        self.b.assign_sub(lr * tf.reduce_sum(g))
        return {"loss": loss}

    def _get_weights(self) -> dict[str, Any]:
        return {"w": self.w.read_value(), "v": self.v.read_value(), "b": self.b.read_value()}

    def _set_weights(self, w: Any, v: Any, b: Any) -> dict[str, Any]:
        self.w.assign(w)
        self.v.assign(v)
        self.b.assign(b)
        return {"ok": tf.constant(1, tf.int32)}


def initial_weights(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return the documented prior ``(W0, v0, b0)`` for ``n`` interest nodes.

    Parameters
    ----------
    n : int
        Number of interest nodes.

    Returns
    -------
    tuple of numpy.ndarray
        ``W0 = 4 I``, ``v0`` (popularity 1, congruence ln 1.4, others 0), ``b0 = logit(0.05)``.
    """
    w = np.eye(n) * INTEREST_PRIOR
    v = np.array([_PRIOR.get(f, 0.0) for f in DENSE_FEATURES])
    b = np.array(math.log(BASE_RATE / (1 - BASE_RATE)))
    return w, v, b


def build(out_dir: Path = OUT_DIR) -> Path:
    """Build ``ranking.tflite``, its JSON sidecar and its model card in ``out_dir``.

    Parameters
    ----------
    out_dir : pathlib.Path
        Destination directory.

    Returns
    -------
    pathlib.Path
        The ``.tflite`` path.
    """
    nodes = label_node_order(load_taxonomy())
    w, v, b = initial_weights(len(nodes))
    module = RankingModule(w=w, v=v, b=b)
    with tempfile.TemporaryDirectory() as tmp:
        flatbuffer = convert(module, Path(tmp), signatures=SIGNATURES)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "ranking.tflite"
    path.write_bytes(flatbuffer)
    sidecar = {
        "name": "ranking",
        "version": VERSION,
        "nodes": list(nodes),
        "dense_features": [f.value for f in DENSE_FEATURES],
        "sha256": hashlib.sha256(flatbuffer).hexdigest(),
        "size_bytes": len(flatbuffer),
        "prior": {
            "interest_diagonal": INTEREST_PRIOR,
            "base_rate": BASE_RATE,
            **{f.value: round(_PRIOR.get(f, 0.0), 6) for f in DENSE_FEATURES},
        },
    }
    path.with_suffix(".json").write_text(json.dumps(sidecar, indent=2) + "\n", encoding="utf-8")
    _write_card(path, sidecar)
    return path


def _write_card(path: Path, side: dict[str, Any]) -> None:
    dense = ", ".join(f"`{name}`" for name in side["dense_features"])
    card = f"""# Model card: `ranking` v{side["version"]}

**What it does.** Scores how likely a person is to engage with one variant of a catalog item,
on the device, from their policy-filtered profile and the item's features. The selector
(`edge_client.selection`) ranks with it, then applies the policy's caps, fatigue, dismissal
suppression and exploration share.

**Architecture.** `logit = sum((u @ W) * m) + e @ v + b`, sigmoid head. `u`: the profile's
allowed interest scores over {len(side["nodes"])} taxonomy nodes (the interest model's label
nodes); `m`: the item's membership of those nodes; `e`: {dense}. Signatures `infer`, `train`
(one SGD step, mean binary cross-entropy, L2 pull towards the prior, hand-written gradients),
`get_weights`, `set_weights`; TensorFlow Lite builtin ops only.

**Data.** None: the shipped weights are a documented prior (`W = 4 I`, popularity weight 1,
style-congruence weight ln 1.4 after Matz et al. 2017, PNAS, context affinities 1 so a
category the person engages with twice as often at this time of day or on this device gets
twice the odds, base rate 5%). The device learns
from the person's own engagement through `train`; federated training of it is separate work.
Training examples hold feature vectors, a 0/1 label and a timestamp, never text.

**Metrics.** Measured by `python scripts/bench_selection.py` on 20 Newsgroups authors unseen by
the interest model (AUC, nDCG@10 against popularity and random) and, for decision-style
matching, on a clearly labelled SIMULATION; results in `reports/bench_selection.json`
and `docs/selection.md`.

**Size.** {side["size_bytes"]:,} bytes. SHA-256 `{side["sha256"]}`.

**Limits.** The prior assumes interest scores from the shipped interest model; catalog items in
categories outside those nodes rank by popularity only. Sensitive items and forbidden categories
never reach the model's personalized features (the selector zeroes or excludes them).

**Rebuild.** `pip install -e '.[build]' && python -m models.ranking` (no data needed).
"""
    path.with_suffix(".md").write_text(card, encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description="Build the on-device ranking model.")
    parser.add_argument("--out", type=Path, default=OUT_DIR, help="output directory")
    args = parser.parse_args(argv)
    path = build(args.out)
    print(f"wrote {path} ({path.stat().st_size} bytes)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
