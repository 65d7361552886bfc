"""Benchmark federated training of the decision-style model on real MBTI users.

One user = one device; the user-level split of ``models.data.split_mbti`` holds out 1 in 5
users. All runs start from zero weights and train through the model's own LiteRT ``train``
signature via the real ClientApp (in-process grid, so the numbers are about learning, not
Ray start-up). Reported, in a table and ``reports/bench_federated.json``:

* centralized SGD on all training users vs plain Flower FedAvg of clipped updates
  (no noise): held-out AUC by user, target |difference| <= 0.02;
* the policy wrapper (Poisson sampling, k, validation, noise, ε ledger, checkpoints,
  signed bundles) at the default policy's ε budget: the AUC cost of DP;
* seconds per round, clients per round, bytes sent per client per round, and the server
  time of the policy wrapper over plain FedAvg on the same replies (a ratio).

The default policy's k=50 at q=0.02 needs about 3,000 devices; the 1,356 training users
here cannot meet it, so the benchmark policy keeps the default's noise, clip, δ and ε
budget and uses k=10, q=0.1. ``--quick`` runs fewer rounds and epochs.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def _policy(directory: Path) -> Path:
    text = (REPO / "policies" / "default.toml").read_text(encoding="utf-8")
    for key, value in {"min_cohort": "10", "sampling_rate": "0.1"}.items():
        text = re.sub(rf"(?m)^{key} = .*$", f"{key} = {value}", text, count=1)
    path = directory / "bench-policy.toml"
    path.write_text(text, encoding="utf-8")
    return path


def main(argv: list[str] | None = None) -> int:  # noqa: PLR0915  # one linear benchmark script
    """Run the benchmark; return the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    args = parser.parse_args(argv)
    if not (args.data / "mbti" / "users.jsonl").is_file():
        print(f"skipped: {args.data}/mbti/users.jsonl not found")
        return 0
    from flwr.app import ConfigRecord, Message, MessageType, RecordDict
    from flwr.serverapp.strategy import FedAvg

    from edge_client.federated.app import app as client_app
    from edge_client.federated.bundle import verify_model_bundle
    from edge_client.federated.device import _mbti_train_users, engine_for
    from edge_client.federated.examples import style_examples
    from edge_client.models import ModelName, load_model
    from edge_client.policy import TrustStore
    from fl_server.app import run_server
    from fl_server.evaluation import heldout_people, score_people
    from fl_server.local_grid import LocalGrid
    from fl_server.publish import ensure_signing_key, sign_model_bundle
    from fl_server.settings import ServerSettings

    rounds, epochs = (15, 2) if args.quick else (60, 3)
    data = str(args.data.resolve())
    users = _mbti_train_users(data)
    people = heldout_people(data, 0)
    model = load_model(ModelName.STYLE)
    zero = {k: np.zeros_like(v) for k, v in model.get_weights().items()}
    results: dict[str, Any] = {"train_users": len(users), "heldout_users": len(people)}

    # centralized -------------------------------------------------------------------
    examples = [style_examples(p, analytical=a) for _, a, p in users]
    counts = [c for e in examples for c in e.counts]
    targets = np.concatenate([e.targets for e in examples])
    rng = np.random.default_rng(0)
    model.set_weights(zero)
    start = time.perf_counter()
    for _ in range(epochs * 2):
        order = rng.permutation(len(counts))
        for i in range(0, len(order), 32):
            batch = order[i : i + 32]
            model.train_step([counts[j] for j in batch], targets[batch], learning_rate=0.5)
    results["centralized"] = {**score_people(model, people), "seconds": time.perf_counter() - start}

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        policy = _policy(work)
        engine = engine_for(str(policy))
        base: dict[str, Any] = {
            "policy": str(policy),
            "data": data,
            "model-trust": str(work / "keys" / "model-signing.pub"),
            "signing-key": str(work / "keys" / "model-signing.key"),
            "local-epochs": epochs,
            "learning-rate": 0.5,
            "initial-model": "zero",
            "seed": 1,
            "heldout-eval": True,
            "output-dir": str(work / "policy"),
            "num-rounds": rounds,
        }
        nodes = [{"partition-id": i} for i in range(len(users))]
        # plain FedAvg of clipped updates, same sampling rate, no noise ------------------
        key = ensure_signing_key(work / "keys" / "model-signing.key")
        grid = LocalGrid(client_app, nodes, base)
        plain, weights, server_s, round_s, sizes, cohort = (
            FedAvg(weighted_by_key="num_examples"),
            dict(zero),
            0.0,
            [],
            [],
            [],
        )
        for r in range(1, rounds + 1):
            t0 = time.perf_counter()
            sample = [
                n
                for n, u in zip(grid.get_node_ids(), rng.random(len(nodes)), strict=True)
                if u < 0.1
            ]
            bundle = sign_model_bundle(
                private_key=key,
                model="style",
                version=r - 1,
                weights=weights,
                metrics={},
                policy_hash=engine.policy_hash,
            )
            rules = engine.federated
            config: dict[str, Any] = {
                "policy_hash": engine.policy_hash,
                "cohort_size": len(sample),
                "sampling_rate": 0.1,
                "clipping_norm": rules.clipping_norm,
                "noise_multiplier": rules.noise_multiplier,
                "secure_aggregation": False,
                "metrics": sorted(engine.allowed_metric_names()),
                "model": "style",
                "server-round": r,
                "local-epochs": epochs,
                "learning-rate": 0.5,
                "batch-size": 16,
                "l2": 0.0,
            }
            content = RecordDict(
                {"config": ConfigRecord(config), "bundle": ConfigRecord({"data": bundle})}
            )
            replies = list(
                grid.send_and_receive(
                    [
                        Message(content, dst_node_id=n, message_type=MessageType.TRAIN)
                        for n in sample
                    ]
                )
            )
            t1 = time.perf_counter()
            mean, _ = plain.aggregate_train(r, replies)
            if mean is not None:
                weights = {k: weights[k] + a.numpy() for k, a in mean.items()}
            server_s += time.perf_counter() - t1
            round_s.append(time.perf_counter() - t0)
            sizes += [len(LocalGrid.reply_bytes(m)) for m in replies]  # outside the timing
            cohort.append(len(replies))
        model.set_weights(weights)
        results["federated_plain"] = {
            **score_people(model, people),
            "rounds": rounds,
            "seconds_per_round": float(np.mean(round_s)),
            "clients_per_round": float(np.mean(cohort)),
            "bytes_per_client_round": float(np.mean(sizes)),
            "server_seconds_per_round": server_s / rounds,
        }
        # the policy wrapper at the default policy's ε ---------------------------------
        # Same workload as the plain run: no server-side held-out scoring during rounds
        # (the final model is scored once afterwards), so the time ratio is the wrapper's.
        grid = LocalGrid(client_app, nodes, {**base, "heldout-eval": False})
        t0 = time.perf_counter()
        result = run_server(grid, ServerSettings.from_run_config({**base, "heldout-eval": False}))
        elapsed = time.perf_counter() - t0
        report = json.loads(result.metrics.read_text())
        done = [x for x in report["rounds"] if x["status"] == "aggregated"]
        sent = [
            x for x in report["rounds"] if x["status"] in ("aggregated", "not_aggregated_under_k")
        ]
        final = verify_model_bundle(
            (result.output_dir / "bundles" / "style-latest.bundle").read_bytes(),
            TrustStore.load(work / "keys" / "model-signing.pub"),
            policy_hash=engine.policy_hash,
        )
        model.set_weights(dict(final.weights))
        results["federated_dp"] = {
            **score_people(model, people),
            "epsilon": result.epsilon,
            "rounds_aggregated": len(done),
            "rounds_sent": len(sent),
            "rounds_stopped_by_budget": sum(
                x["status"] == "budget_exhausted" for x in report["rounds"]
            ),
            "seconds_per_round": elapsed / max(len(sent), 1),
        }
    cen, fed, dp = results["centralized"], results["federated_plain"], results["federated_dp"]
    results["auc_gap_federated_vs_centralized"] = fed["auc"] - cen["auc"]
    results["auc_cost_of_dp"] = fed["auc"] - dp["auc"]
    results["overhead_ratio_policy_vs_plain"] = dp["seconds_per_round"] / fed["seconds_per_round"]
    rows = [
        ("centralized AUC", cen["auc"]),
        ("federated (FedAvg, clipped) AUC", fed["auc"]),
        ("federated + DP at ε≤3 AUC", dp["auc"]),
        ("ε spent", dp["epsilon"]),
        ("gap fed − central (target ≥ −0.02)", results["auc_gap_federated_vs_centralized"]),
        ("AUC cost of DP", results["auc_cost_of_dp"]),
        ("clients / round", fed["clients_per_round"]),
        ("bytes / client / round", fed["bytes_per_client_round"]),
        ("seconds / round (in-process)", fed["seconds_per_round"]),
        ("policy wrapper / plain FedAvg time", results["overhead_ratio_policy_vs_plain"]),
    ]
    for name, value in rows:
        print(
            f"{name:<40} {value:>12.4f}"
            if isinstance(value, float)
            else f"{name:<40} {value!s:>12}"
        )
    out = REPO / "reports" / "bench_federated.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    print(f"written: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
