"""Benchmark what one device sends per federated round, for every shipped trainable model.

Two parts, in one run:

* **bytes** (no data needed): for the style, interest and ranking models, one plain round
  and one secure-aggregation round on the same virtual devices (the real ClientApp and the
  real policy strategy on the in-process grid, the strict preset with sampling rate 1 so
  every device joins): bytes each device sends and receives per round (Flower's serialized
  messages, every stage of a secure round). Side by side, the baseline: a plain reply of
  the same ClientApp shape carrying the updates the models exchanged before the small
  updates (style version 1: 131,072 × 1 + 1 float32 values; interests version 1:
  16,384 × 20 + 20), serialized the same way, and the ratio. Target: at most 64 kB
  (64,000 bytes) sent per device per round for every model.
* **capacity** (needs ``../shared/data``, or ``$EDGEPROF_DATA``, and the ``build``
  extra): why the style model's residual has 2^13 buckets. The style recipe is fitted on
  half the MBTI training users (the frozen base); a residual on the hash folded to ``R``
  buckets (``R`` = 1 is a bias-only head, ``R`` = 2^17 retrains every weight) is then
  fitted on the other half (L-BFGS, the same L2 strength 10^-3 for every ``R``; nothing
  tuned on the held-out users) and scored on the held-out users of
  ``models.data.split_mbti``: ROC AUC on whole histories and on the first 300 words.

Prints a table; writes ``reports/bench_update_size.json``. ``--devices`` (default 20) sets
the round size; ``--skip-capacity`` runs the bytes part only.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from _bench_common import (
    REPO_ROOT,
    data_missing_reason,
    environment,
    format_table,
    progress,
    write_json,
)

sys.path.insert(0, str(REPO_ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # TensorFlow's start-up lines, not results

import numpy as np  # after the repository is importable
from bench_secagg import _policy as adapted_policy  # idem
from bench_secagg import _run, one_round_config  # idem
from flwr.app import Array, ArrayRecord, Message, MetricRecord, RecordDict  # idem

from fl_server.local_grid import LocalGrid  # idem
from fl_server.secagg import simulation_identities  # idem
from models.data import data_dir  # idem

OUT = REPO_ROOT / "reports" / "bench_update_size.json"
BUDGET = 64_000
MODELS = ("style", "interests", "ranking")
BASELINE_SHAPES: dict[str, dict[str, tuple[int, ...]]] = {
    "style": {"w": (2**17, 1), "b": (1,)},
    "interests": {"w": (2**14, 20), "b": (20,)},
}
"""The updates of the models before the small updates (issue 10's 520 kB and 1.3 MB)."""
RESIDUALS = (1, 2**10, 2**13, 2**14, 2**17)
L2 = 1e-3


def _baseline_bytes(shapes: dict[str, tuple[int, ...]], metrics: MetricRecord) -> int:
    """Serialized size of a plain reply carrying float32 zeros of ``shapes``."""
    arrays = ArrayRecord({k: Array(np.zeros(s, np.float32)) for k, s in shapes.items()})
    content = RecordDict({"arrays": arrays, "metrics": metrics})
    return len(LocalGrid.reply_bytes(Message(content, dst_node_id=1, message_type="train")))


def measure_bytes(devices: int, work: Path, data_root: Path | None) -> dict[str, Any]:
    """Per model: bytes sent and received per device in a plain and a secure round.

    The interest model's devices are 20 Newsgroups authors: without ``data_root`` its row
    says it was skipped. The other models run on the built-in devices.
    """
    identities, authority = simulation_identities(work / "identities", devices)
    common = {"sampling_rate": "1.0", "min_cohort": str(devices), "target_epsilon": "100.0"}
    nodes = [{"partition-id": i} for i in range(devices)]
    out: dict[str, Any] = {}
    for model in MODELS:
        row: dict[str, Any] = {}
        data = {} if model != "interests" else {"data": str(data_root)}
        if model == "interests" and data_root is None:
            out[model] = {"skipped": "needs ../shared/data (20 Newsgroups authors)"}
            continue
        for mode in ("plain", "secure"):
            name = f"{model}-{mode}"
            flag = "true" if mode == "secure" else "false"
            policy = adapted_policy(work, name, "strict", {**common, "secure_aggregation": flag})
            config = {
                **one_round_config(policy, work / name, identities, authority),
                "model": model,
                **data,
            }
            progress(f"bytes: {model}, {mode} round, {devices} devices")
            app, rounds, _, _ = _run(nodes, config, keep=1 if mode == "plain" else 0)
            if rounds[0]["status"] != "aggregated":
                raise RuntimeError(f"{name}: round {rounds[0]['status']}")
            row[mode] = {
                "bytes_up_per_device": float(np.mean(list(app.up.values()))),
                "bytes_down_per_device": float(np.mean(list(app.down.values()))),
            }
            if mode == "plain":
                update = app.updates[0]
                row["update_values"] = int(sum(a.size for a in update.values()))
                row["update_shapes"] = {k: list(a.shape) for k, a in sorted(update.items())}
        if model in BASELINE_SHAPES:
            metrics = MetricRecord({"num_examples": 1, "loss": 0.0, "update_norm": 0.0})
            before = _baseline_bytes(BASELINE_SHAPES[model], metrics)
            row["baseline_bytes_up_per_device"] = float(before)
            row["ratio_plain_to_baseline"] = row["plain"]["bytes_up_per_device"] / before
        worst = max(row["plain"]["bytes_up_per_device"], row["secure"]["bytes_up_per_device"])
        row["target"] = {"budget_bytes": BUDGET, "value": worst, "passed": worst <= BUDGET}
        out[model] = row
    return out


def measure_capacity(data_root: Path) -> dict[str, Any]:
    """Held-out AUC of the style model's base plus a residual of each size (module doc)."""
    import scipy.sparse as sp
    from scipy.optimize import minimize
    from sklearn.metrics import roc_auc_score
    from threadpoolctl import threadpool_limits

    from edge_client.text.features import extract
    from models import data
    from models.build import STYLE, fit, fit_design

    users = data.load_mbti(data_root)
    progress(f"capacity: features of {len(users)} users")
    full = [extract("\n".join(u.posts)) for u in users]
    short = [extract(data.first_words(u.posts, 300)) for u in users]
    y = np.array([u.analytical for u in users], np.int64)
    train, held = data.split_mbti(users)
    order = np.random.default_rng(0).permutation(np.asarray(train))
    base_users, adapt_users = order[: len(order) // 2], order[len(order) // 2 :]
    with threadpool_limits(1):
        design = fit_design(STYLE, [full[i] for i in base_users])
        clf = fit(design, [full[i] for i in base_users], y[base_users])
    w, b0 = clf.coef_[0], float(clf.intercept_[0])
    x_adapt = design.matrix([full[i] for i in adapt_users])
    x_full = design.matrix([full[i] for i in held])
    x_short = design.matrix([short[i] for i in held])
    y_adapt, y_held = y[adapt_users].astype(np.float64), y[held]

    def fold(x: sp.csr_matrix, r: int) -> sp.csr_matrix:
        coo = x.tocoo()
        return sp.csr_matrix((coo.data, (coo.row, coo.col % r)), shape=(x.shape[0], r))

    def aucs(extra_full: Any, extra_short: Any) -> dict[str, float]:
        return {
            "auc_full_history": round(float(roc_auc_score(y_held, x_full @ w + extra_full)), 4),
            "auc_first_300_words": round(
                float(roc_auc_score(y_held, x_short @ w + extra_short)), 4
            ),
        }

    out: dict[str, Any] = {
        "base_users": len(base_users),
        "adaptation_users": len(adapt_users),
        "heldout_users": len(held),
        "l2": L2,
        "base_only": aucs(0.0, 0.0),
        "residual": {},
    }
    offset = x_adapt @ w + b0
    for r in RESIDUALS:
        progress(f"capacity: residual of {r} buckets")
        f_adapt = fold(x_adapt, r)

        def loss(theta: Any, f_adapt: sp.csr_matrix = f_adapt) -> tuple[float, Any]:
            res, bias = theta[:-1], theta[-1]
            z = offset + f_adapt @ res + bias
            g = (1.0 / (1.0 + np.exp(-z)) - y_adapt) / len(y_adapt)
            value = np.mean(np.logaddexp(0.0, z) - y_adapt * z) + 0.5 * L2 * res @ res
            return float(value), np.concatenate([f_adapt.T @ g + L2 * res, [g.sum()]])

        theta = minimize(
            loss, np.zeros(r + 1), jac=True, method="L-BFGS-B", options={"maxiter": 500}
        ).x
        res = theta[:-1]
        out["residual"][str(r)] = {
            "update_bytes": 4 * (r + 1),
            **aucs(fold(x_full, r) @ res, fold(x_short, r) @ res),
        }
    return out


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark, print the tables, write the JSON report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=20)
    parser.add_argument("--skip-capacity", action="store_true")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    logging.getLogger("flwr").setLevel(logging.ERROR)  # results on stdout, not Flower's log
    data_root = data_dir()
    reason = data_missing_reason(data_root)
    with tempfile.TemporaryDirectory() as tmp:
        sizes = measure_bytes(args.devices, Path(tmp), None if reason else data_root)
    report: dict[str, Any] = {"environment": environment(), "devices": args.devices}
    report["bytes"] = sizes
    rows = []
    for model, row in sizes.items():
        if "skipped" in row:
            rows.append([model, row["skipped"], "", "", "", "", ""])
            continue
        before = row.get("baseline_bytes_up_per_device")
        rows.append(
            [
                model,
                f"{row['update_values']:,}",
                "-" if before is None else f"{before / 1e3:.1f}",
                f"{row['plain']['bytes_up_per_device'] / 1e3:.1f}",
                f"{row['secure']['bytes_up_per_device'] / 1e3:.1f}",
                "-" if before is None else f"{row['ratio_plain_to_baseline']:.3f}",
                "yes" if row["target"]["passed"] else "NO",
            ]
        )
    headers = [
        "model",
        "update values",
        "before: kB sent",
        "plain: kB sent",
        "secure: kB sent",
        "plain / before",
        "<= 64 kB",
    ]
    print(format_table(headers, rows))
    if args.skip_capacity or reason is not None:
        report["capacity"] = {"skipped": reason or "--skip-capacity"}
    else:
        capacity = measure_capacity(data_root)
        report["capacity"] = capacity
        base = capacity["base_only"]
        lines = [["frozen base only", "0", base["auc_full_history"], base["auc_first_300_words"]]]
        for r, item in capacity["residual"].items():
            lines.append(
                [
                    f"base + residual of {int(r):,} buckets",
                    f"{item['update_bytes'] / 1e3:.1f}",
                    item["auc_full_history"],
                    item["auc_first_300_words"],
                ]
            )
        print()
        print(format_table(["style model", "update kB", "AUC whole", "AUC 300 words"], lines))
    write_json(args.out, report)
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
