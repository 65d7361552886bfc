"""Benchmark federated training of the decision-style and interest models on real people.

Style: one MBTI user = one device; the user-level split of ``models.data.split_mbti`` holds
out 1 in 5 users. Interests (section ``interests``): one 20 Newsgroups author = one device;
the devices are the train-split authors who never post in the test split (the
``models.data.split_news`` rule the shipped interest model was trained with), scored by
20-way accuracy on the whole test split. All runs start from zero weights and train
through the model's own LiteRT ``train`` signature via the real ClientApp (in-process grid,
so the numbers are about learning, not Ray start-up). Reported, in a table and
``reports/bench_federated.json``:

* centralized SGD on all training users vs plain Flower FedAvg of clipped updates
  (no noise): held-out AUC by user, target |difference| <= 0.02;
* the policy wrapper (Poisson sampling, k, validation, noise, ε ledger, checkpoints,
  signed bundles) at the default policy's ε budget: the AUC cost of DP;
* seconds per round, clients per round, bytes sent per client per round, and the server
  time of the policy wrapper over plain FedAvg on the same replies (a ratio).

The default policy's k=50 at q=0.02 needs about 3,000 devices; the 1,356 training users
here cannot meet it, so the benchmark policy keeps the default's noise, clip, δ and ε
budget and uses k=10, q=0.1; the 4,270 news authors cannot meet it either and get the same
adaptation. Centralized interests training runs as many passes over the training posts as
the federated run makes in expectation (rounds × q × local epochs), from the same zero
weights. ``--quick`` runs fewer rounds and epochs.
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
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "bench-policy.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _plain_fedavg(
    grid: Any,
    *,
    engine: Any,
    key: Any,
    model: str,
    zero: dict[str, Any],
    rounds: int,
    epochs: int,
    rng: np.random.Generator,
) -> tuple[dict[str, Any], dict[str, float]]:
    """Plain Flower FedAvg of the ClientApp's clipped updates, same sampling rate, no noise."""
    from flwr.app import ConfigRecord, Message, MessageType, RecordDict
    from flwr.serverapp.strategy import FedAvg

    from fl_server.local_grid import LocalGrid
    from fl_server.publish import sign_model_bundle

    nodes = list(grid.get_node_ids())
    plain, weights = FedAvg(weighted_by_key="num_examples"), dict(zero)
    server_s, round_s, sizes, cohort = 0.0, [], [], []
    for r in range(1, rounds + 1):
        t0 = time.perf_counter()
        sample = [n for n, u in zip(nodes, rng.random(len(nodes)), strict=True) if u < 0.1]
        bundle = sign_model_bundle(
            private_key=key,
            model=model,
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
            "model": model,
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
                [Message(content, dst_node_id=n, message_type=MessageType.TRAIN) for n in sample]
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
    return weights, {
        "rounds": rounds,
        "seconds_per_round": float(np.mean(round_s)),
        "clients_per_round": float(np.mean(cohort)),
        "bytes_per_client_round": float(np.mean(sizes)),
        "server_seconds_per_round": server_s / rounds,
    }


def _run_config(
    policy: Path, data: str, work: Path, *, out: str, epochs: int, rounds: int, heldout: bool
) -> dict[str, Any]:
    """The run configuration both benchmark parts give the ServerApp and the devices."""
    return {
        "policy": str(policy),
        "data": data,
        "model-trust": str(work / "keys" / "model-signing.pub"),
        "signing-key": str(work / "keys" / "model-signing.key"),
        "local-epochs": epochs,
        "learning-rate": 0.5,
        "initial-model": "zero",
        "seed": 1,
        "heldout-eval": heldout,
        "output-dir": str(work / out),
        "num-rounds": rounds,
    }


def _policy_run(
    grid: Any, base: dict[str, Any], *, engine: Any, model: str, trust: Path
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The policy wrapper (fl_server.run_server) on ``grid``; final weights and its stats."""
    from edge_client.federated.bundle import verify_model_bundle
    from edge_client.policy import TrustStore
    from fl_server.app import run_server
    from fl_server.settings import ServerSettings

    t0 = time.perf_counter()
    result = run_server(grid, ServerSettings.from_run_config(base))
    elapsed = time.perf_counter() - t0
    report = json.loads(result.metrics.read_text())
    done = [x for x in report["rounds"] if x["status"] == "aggregated"]
    sent = [x for x in report["rounds"] if x["status"] in ("aggregated", "not_aggregated_under_k")]
    final = verify_model_bundle(
        (result.output_dir / "bundles" / f"{model}-latest.bundle").read_bytes(),
        TrustStore.load(trust),
        policy_hash=engine.policy_hash,
    )
    return dict(final.weights), {
        "epsilon": result.epsilon,
        "rounds_aggregated": len(done),
        "rounds_sent": len(sent),
        "rounds_stopped_by_budget": sum(
            x["status"] == "budget_exhausted" for x in report["rounds"]
        ),
        "seconds_per_round": elapsed / max(len(sent), 1),
    }


def _accuracy(model: Any, counts: list[Any], labels: np.ndarray) -> float:
    """Top-1 accuracy of the interest model over its labels on ``counts`` (batched)."""
    hits = 0
    for i in range(0, len(counts), 256):
        probs = model.predict(counts[i : i + 256])
        hits += int(np.sum(np.argmax(probs, axis=1) == labels[i : i + 256]))
    return hits / len(counts)


def _bench_style(args: argparse.Namespace, work: Path, rounds: int, epochs: int) -> dict[str, Any]:
    """Decision style on MBTI users: centralized vs FedAvg vs the policy wrapper with DP."""
    from edge_client.federated.app import app as client_app
    from edge_client.federated.device import _mbti_train_users, engine_for
    from edge_client.federated.examples import style_examples
    from edge_client.models import ModelName, load_model
    from fl_server.evaluation import heldout_people, score_people
    from fl_server.local_grid import LocalGrid
    from fl_server.publish import ensure_signing_key

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

    policy = _policy(work)
    engine = engine_for(str(policy))
    trust = work / "keys" / "model-signing.pub"
    base = _run_config(policy, data, work, out="policy", epochs=epochs, rounds=rounds, heldout=True)
    nodes = [{"partition-id": i} for i in range(len(users))]
    key = ensure_signing_key(work / "keys" / "model-signing.key")
    grid = LocalGrid(client_app, nodes, base, keep=False)
    weights, plain = _plain_fedavg(
        grid,
        engine=engine,
        key=key,
        model="style",
        zero=zero,
        rounds=rounds,
        epochs=epochs,
        rng=rng,
    )
    model.set_weights(weights)
    results["federated_plain"] = {**score_people(model, people), **plain}
    # Same workload as the plain run: no server-side held-out scoring during rounds
    # (the final model is scored once afterwards), so the time ratio is the wrapper's.
    config = {**base, "heldout-eval": False}
    weights, dp = _policy_run(
        LocalGrid(client_app, nodes, config, keep=False),
        config,
        engine=engine,
        model="style",
        trust=trust,
    )
    model.set_weights(weights)
    results["federated_dp"] = {**score_people(model, people), **dp}
    cen, fed, dpr = results["centralized"], results["federated_plain"], results["federated_dp"]
    results["auc_gap_federated_vs_centralized"] = fed["auc"] - cen["auc"]
    results["auc_cost_of_dp"] = fed["auc"] - dpr["auc"]
    results["overhead_ratio_policy_vs_plain"] = dpr["seconds_per_round"] / fed["seconds_per_round"]
    return results


def _bench_interests(
    args: argparse.Namespace, work: Path, rounds: int, epochs: int
) -> dict[str, Any]:
    """Interests on 20 Newsgroups authors: centralized vs FedAvg vs the policy wrapper with DP."""
    from edge_client.federated.app import app as client_app
    from edge_client.federated.device import engine_for
    from edge_client.federated.examples import interest_examples
    from edge_client.federated.news import news_author_posts, news_test_posts
    from edge_client.models import ModelName, load_model
    from edge_client.taxonomy import load_taxonomy
    from edge_client.text.features import extract
    from fl_server.local_grid import LocalGrid
    from fl_server.publish import ensure_signing_key

    data = str(args.data.resolve())
    labels = load_taxonomy().labels
    index = {label: i for i, label in enumerate(labels)}
    authors = news_author_posts(data)
    test = news_test_posts(data)
    test_counts = [extract(text) for text, _ in test]
    test_labels = np.array([index[group] for _, group in test])
    model = load_model(ModelName.INTERESTS)
    zero = {k: np.zeros_like(v) for k, v in model.get_weights().items()}
    results: dict[str, Any] = {
        "train_authors": len(authors),
        "train_posts": sum(len(a) for a in authors),
        "test_posts": len(test),
    }
    # centralized, as many expected passes as the federated run (rounds * q * epochs) ----
    examples = [interest_examples(posts, labels=labels) for posts in authors]
    counts = [c for e in examples for c in e.counts]
    targets = np.concatenate([e.targets for e in examples])
    passes = max(1, round(rounds * 0.1 * epochs))
    rng = np.random.default_rng(0)
    model.set_weights(zero)
    start = time.perf_counter()
    for _ in range(passes):
        order = rng.permutation(len(counts))
        for i in range(0, len(order), 16):
            batch = order[i : i + 16]
            model.train_step([counts[j] for j in batch], targets[batch], learning_rate=0.5)
    results["centralized"] = {
        "accuracy": _accuracy(model, test_counts, test_labels),
        "epochs": passes,
        "seconds": time.perf_counter() - start,
    }
    policy = _policy(work)
    engine = engine_for(str(policy))
    trust = work / "keys" / "model-signing.pub"
    base = {
        **_run_config(
            policy, data, work, out="policy-interests", epochs=epochs, rounds=rounds, heldout=False
        ),
        "model": "interests",
    }
    nodes = [{"partition-id": i} for i in range(len(authors))]
    key = ensure_signing_key(work / "keys" / "model-signing.key")
    grid = LocalGrid(client_app, nodes, base, keep=False)
    weights, plain = _plain_fedavg(
        grid,
        engine=engine,
        key=key,
        model="interests",
        zero=zero,
        rounds=rounds,
        epochs=epochs,
        rng=rng,
    )
    model.set_weights(weights)
    results["federated_plain"] = {"accuracy": _accuracy(model, test_counts, test_labels), **plain}
    weights, dp = _policy_run(
        LocalGrid(client_app, nodes, base, keep=False),
        base,
        engine=engine,
        model="interests",
        trust=trust,
    )
    model.set_weights(weights)
    results["federated_dp"] = {"accuracy": _accuracy(model, test_counts, test_labels), **dp}
    cen, fed, dpr = results["centralized"], results["federated_plain"], results["federated_dp"]
    results["accuracy_gap_federated_vs_centralized"] = fed["accuracy"] - cen["accuracy"]
    results["accuracy_cost_of_dp"] = fed["accuracy"] - dpr["accuracy"]
    results["overhead_ratio_policy_vs_plain"] = dpr["seconds_per_round"] / fed["seconds_per_round"]
    return results


def _print(rows: list[tuple[str, Any]]) -> None:
    for name, value in rows:
        print(
            f"{name:<44} {value:>12.4f}"
            if isinstance(value, float)
            else f"{name:<44} {value!s:>12}"
        )


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; return the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument(
        "--out", type=Path, default=REPO / "reports" / "bench_federated.json", help="JSON report"
    )
    args = parser.parse_args(argv)
    if not (args.data / "mbti" / "users.jsonl").is_file():
        print(f"skipped: {args.data}/mbti/users.jsonl not found")
        return 0
    rounds, epochs = (15, 2) if args.quick else (60, 3)
    with tempfile.TemporaryDirectory() as tmp:
        results = _bench_style(args, Path(tmp) / "style", rounds, epochs)
    cen, fed, dp = results["centralized"], results["federated_plain"], results["federated_dp"]
    _print(
        [
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
    )
    if (args.data / "20news" / "train.jsonl").is_file():
        with tempfile.TemporaryDirectory() as tmp:
            news = _bench_interests(
                args, Path(tmp) / "interests", *((5, 2) if args.quick else (rounds, epochs))
            )
        results["interests"] = news
        cen, fed, dp = news["centralized"], news["federated_plain"], news["federated_dp"]
        _print(
            [
                ("interests: centralized accuracy", cen["accuracy"]),
                ("interests: federated (FedAvg, clipped) acc.", fed["accuracy"]),
                ("interests: federated + DP at ε≤3 acc.", dp["accuracy"]),
                ("interests: ε spent", dp["epsilon"]),
                ("interests: gap fed − central", news["accuracy_gap_federated_vs_centralized"]),
                ("interests: accuracy cost of DP", news["accuracy_cost_of_dp"]),
                ("interests: clients / round", fed["clients_per_round"]),
                ("interests: bytes / client / round", fed["bytes_per_client_round"]),
                ("interests: seconds / round (in-process)", fed["seconds_per_round"]),
                ("interests: policy / plain FedAvg time", news["overhead_ratio_policy_vs_plain"]),
            ]
        )
    else:
        print(f"interests skipped: {args.data}/20news/train.jsonl not found")
    out: Path = args.out
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    print(f"written: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
