"""Benchmark the main federated job on the built-in population, side by side in one run.

The main job (``edgeprof simulate`` defaults) trains the interest model's head (1,332
values, through the ``.tflite`` ``train`` signature via the real ClientApp) from zero on the
3,559 training devices of the built-in reddit-top2013 population under the research preset
(q = 0.1, σ = 0.8, clip 1, δ = 10⁻⁵), and scores top-1 accuracy on the 485 held-out devices
after every round. This script runs, on an in-process grid (so the figures are about
learning and the server, not Ray start-up):

* **dp**: the policy wrapper (``fl_server.run_server``: Poisson sampling, k, validation,
  clipping, Gaussian noise, ε ledger, checkpoints, signed bundles) with the main job's
  settings;
* **plain**: plain Flower ``FedAvg`` of the same ClientApp's clipped updates, the same
  sampling rate, learning rate and epochs, no noise: the accuracy the noise costs, and the
  seconds per round the wrapper adds (identical client work, so the ratio isolates it);
* **1k**: the policy wrapper at q = 0.3 (about 1,068 devices per round), seconds per round;
* bytes each device sends per round (the serialized reply), against the 1.3 MB the interest
  model's old sparse update took.

The shipped head (built with the encoder) is scored on the same held-out devices
as a reference. Prints a table, writes ``reports/bench_population.json`` and
``reports/bench_population.png`` (held-out accuracy per round, DP and no-noise runs
overlaid). ``--quick`` runs 4 rounds and a 1,000-device round once.
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

import _bench_common as common
import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from fl_server.cli import BUILTIN_ROUNDS  # noqa: E402  (after the repository is importable)

OLD_INTEREST_UPDATE_BYTES = 1.30e6
"""Bytes per device per round of the interest model's previous (sparse linear) update."""


def _policy(directory: Path, *, sampling_rate: float) -> Path:
    """The research preset with another sampling rate (k, σ, clip, δ and budget kept)."""
    text = (REPO / "edge_client" / "assets" / "policies" / "research.toml").read_text("utf-8")
    text = re.sub(r"(?m)^sampling_rate = .*$", f"sampling_rate = {sampling_rate}", text, count=1)
    path = directory / f"research-q{sampling_rate:g}.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _config(policy: Path, work: Path, out: str, rounds: int) -> dict[str, Any]:
    from fl_server.cli import INTEREST_LEARNING_RATE, INTEREST_SERVER_LEARNING_RATE

    return {
        "policy": str(policy),
        "model": "interests",
        "data": "",
        "model-trust": str(work / "keys" / "model-signing.pub"),
        "signing-key": str(work / "keys" / "model-signing.key"),
        "local-epochs": 2,
        "batch-size": 16,
        "learning-rate": INTEREST_LEARNING_RATE,
        "server-learning-rate": INTEREST_SERVER_LEARNING_RATE,
        "initial-model": "zero",
        "seed": 1,
        "heldout-eval": True,
        "output-dir": str(work / out),
        "num-rounds": rounds,
    }


def _plain(
    grid: Any, *, engine: Any, key: Any, config: dict[str, Any], rounds: int, scorer: Any
) -> tuple[dict[int, dict[str, float]], dict[str, float]]:
    """Plain Flower FedAvg of the ClientApp's clipped updates: same sampling, no noise."""
    from _bench_rounds import PlainRound, send_plain_round
    from flwr.serverapp.strategy import FedAvg

    from edge_client.federated.trainable import FederatedModel, initial_weights
    from fl_server.local_grid import LocalGrid
    from fl_server.server_opt import ServerOptimizer

    server = ServerOptimizer(learning_rate=config["server-learning-rate"])
    plan = PlainRound(
        local_epochs=config["local-epochs"],
        learning_rate=config["learning-rate"],
        batch_size=config["batch-size"],
        sampling_rate=engine.federated.sampling_rate,
    )
    nodes = list(grid.get_node_ids())
    rng = np.random.default_rng(1)
    plain = FedAvg(weighted_by_key="num_examples")
    weights = initial_weights(FederatedModel.INTERESTS, zero=True)
    seconds, sizes, cohorts = [], [], []
    curve: dict[int, dict[str, float]] = {0: _score(scorer, weights)}
    for r in range(1, rounds + 1):
        t0 = time.perf_counter()
        sample = [n for n, u in zip(nodes, rng.random(len(nodes)), strict=True) if u < 0.1]
        replies = send_plain_round(
            grid, sample, server_round=r, weights=weights, engine=engine, key=key, plan=plan
        )
        mean, _ = plain.aggregate_train(r, replies)
        if mean is not None:  # the same server step as the wrapper's
            weights, _ = server.step(weights, {k: a.numpy() for k, a in mean.items()}, {})
        seconds.append(time.perf_counter() - t0)
        sizes += [len(LocalGrid.reply_bytes(m)) for m in replies]  # outside the timing
        cohorts.append(len(replies))
        curve[r] = _score(scorer, weights)  # outside the timing, as the wrapper's evaluate
    return curve, {
        "seconds_per_round": float(np.mean(seconds)),
        "clients_per_round": float(np.mean(cohorts)),
        "bytes_per_device_round": float(np.mean(sizes)),
    }


def _score(scorer: Any, weights: dict[str, Any]) -> dict[str, float]:
    from fl_server.evaluation import heldout_devices, score_interests

    scorer.set_weights(weights)
    return score_interests(scorer, heldout_devices())


def _wrapped(
    grid: Any, config: dict[str, Any]
) -> tuple[dict[int, dict[str, float]], dict[str, Any]]:
    """The policy wrapper on ``grid``; its held-out curve and round statistics."""
    from fl_server.app import run_server
    from fl_server.settings import ServerSettings

    result = run_server(grid, ServerSettings.from_run_config(config))
    report = json.loads(result.metrics.read_text(encoding="utf-8"))
    done = [r for r in report["rounds"] if r["status"] == "aggregated"]
    curve = {int(k): v for k, v in report["heldout"].items()}
    # Round seconds without the server-side held-out scoring (the plain run excludes it too).
    return curve, {
        "epsilon": result.epsilon,
        "rounds_aggregated": len(done),
        "seconds_per_round": float(np.mean([r["seconds"] for r in done])),
        "clients_per_round": float(np.mean([r["cohort"] for r in done])),
        "accepted_per_round": float(np.mean([r["accepted"] for r in done])),
    }


def _print(
    results: dict[str, Any],
    dp_curve: dict[int, dict[str, float]],
    plain_curve: dict[int, dict[str, float]],
    out: Path,
) -> None:
    """Print the side-by-side table."""
    rounds = results["rounds"]
    dp, plain, big_run = results["dp"], results["plain"], results["devices_1k"]
    rows = [
        ("held-out devices / posts", f"{results['heldout_devices']} / {results['heldout_posts']}"),
        ("shipped head accuracy", f"{results['shipped_head_accuracy']:.4f}"),
        (
            "start (round 0) accuracy: DP / no noise",
            f"{dp_curve[min(dp_curve)]['accuracy']:.4f} / {plain_curve[0]['accuracy']:.4f}",
        ),
        (
            f"round-{rounds} accuracy: DP / no noise",
            f"{dp['accuracy']:.4f} / {plain['accuracy']:.4f}",
        ),
        ("accuracy cost of DP (target <= 0.03)", f"{results['accuracy_cost_of_dp']:+.4f}"),
        ("ε spent (δ = 1e-5)", f"{dp['epsilon']:.3f}"),
        (
            "devices per round: DP / plain",
            f"{dp['clients_per_round']:.0f} / {plain['clients_per_round']:.0f}",
        ),
        (
            f"seconds per round, {rounds}-round runs: wrapper / plain",
            f"{dp['seconds_per_round']:.2f} / {plain['seconds_per_round']:.2f}",
        ),
        (
            "wrapper / plain FedAvg, interleaved (target <= 1.1)",
            " ".join(f"{r:.2f}" for r in results["overhead"]["ratios"])
            + f" (median {results['wrapper_over_plain_seconds']:.2f})",
        ),
        (
            "q = 0.3: devices / seconds per round",
            f"{big_run['clients_per_round']:.0f} / {big_run['seconds_per_round']:.2f}",
        ),
        (
            "bytes sent per device per round",
            f"{plain['bytes_per_device_round']:.0f} "
            f"({results['bytes_ratio_to_old_interest_update']:.4f} × 1.3 MB)",
        ),
    ]
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
    print(f"report: {out / 'bench_population.json'}, plot: {out / 'bench_population.png'}")


def _overhead(
    work: Path, nodes: list[dict[str, int]], policy: Path, *, key: Any, scorer: Any, repeats: int
) -> dict[str, Any]:
    """Seconds per round of the wrapper and of plain FedAvg, interleaved on the same load.

    Each repeat runs 3 wrapper rounds (no server-side scoring) and then 3 plain rounds with
    identical client work; the ratio of each pair is reported and their median is the figure
    (a shared machine's load changes within minutes, so far-apart runs are not comparable).
    """
    from edge_client.federated.app import app as client_app
    from edge_client.federated.device import engine_for
    from fl_server.local_grid import LocalGrid

    ratios, wrapper_s, plain_s = [], [], []
    for repeat in range(repeats):
        config = _config(policy, work, f"overhead-{repeat}", 3)
        config["heldout-eval"] = False
        _, wrapped = _wrapped(LocalGrid(client_app, nodes, config, keep=False), config)
        _, plain = _plain(
            LocalGrid(client_app, nodes, config, keep=False),
            engine=engine_for(str(policy)),
            key=key,
            config=config,
            rounds=3,
            scorer=scorer,
        )
        wrapper_s.append(wrapped["seconds_per_round"])
        plain_s.append(plain["seconds_per_round"])
        ratios.append(wrapped["seconds_per_round"] / plain["seconds_per_round"])
    return {
        "wrapper_seconds_per_round": wrapper_s,
        "plain_seconds_per_round": plain_s,
        "ratios": ratios,
        "median_ratio": float(np.median(ratios)),
    }


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; print the table and write the JSON report and the plot."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=BUILTIN_ROUNDS, help="the main job's")
    parser.add_argument("--quick", action="store_true", help="4 rounds (a smoke run)")
    parser.add_argument("--out", type=Path, default=REPO / "reports")
    args = parser.parse_args(argv)
    rounds = 4 if args.quick else args.rounds

    from edge_client.federated.app import app as client_app
    from edge_client.federated.device import engine_for
    from edge_client.federated.reddit_population import load_population
    from edge_client.models import ModelName, load_model
    from fl_server.evaluation import heldout_devices, score_interests
    from fl_server.local_grid import LocalGrid
    from fl_server.publish import ensure_signing_key
    from fl_server.report import plot_run

    population = load_population()
    nodes = [{"partition-id": i} for i in range(population.train_devices)]
    scorer = load_model(ModelName.INTERESTS)
    results: dict[str, Any] = {
        "train_devices": population.train_devices,
        "heldout_devices": population.heldout_devices,
        "heldout_posts": sum(len(d) for d in heldout_devices()),
        "rounds": rounds,
        "shipped_head_accuracy": score_interests(scorer, heldout_devices())["accuracy"],
    }
    with tempfile.TemporaryDirectory(prefix="bench-population-") as tmp:
        work = Path(tmp)
        key = ensure_signing_key(work / "keys" / "model-signing.key")
        policy = _policy(work, sampling_rate=0.1)
        config = _config(policy, work, "dp", rounds)
        print("dp: policy wrapper, research preset ...", file=sys.stderr, flush=True)
        dp_curve, results["dp"] = _wrapped(LocalGrid(client_app, nodes, config, keep=False), config)
        print("plain: Flower FedAvg, no noise ...", file=sys.stderr, flush=True)
        plain_curve, results["plain"] = _plain(
            LocalGrid(client_app, nodes, config, keep=False),
            engine=engine_for(str(policy)),
            key=key,
            config=config,
            rounds=rounds,
            scorer=scorer,
        )
        print("overhead: wrapper and plain rounds, interleaved ...", file=sys.stderr, flush=True)
        results["overhead"] = _overhead(
            work, nodes, policy, key=key, scorer=scorer, repeats=1 if args.quick else 5
        )
        print("1k: policy wrapper at q = 0.3 ...", file=sys.stderr, flush=True)
        big = _config(_policy(work, sampling_rate=0.3), work, "big", 1 if args.quick else 3)
        big["heldout-eval"] = False
        _, results["devices_1k"] = _wrapped(LocalGrid(client_app, nodes, big, keep=False), big)
        dp_report = json.loads((work / "dp" / "metrics.json").read_text(encoding="utf-8"))
        args.out.mkdir(parents=True, exist_ok=True)
        plots = plot_run(
            work / "plots",
            rounds=dp_report["rounds"],
            evaluation=dp_curve,
            target_epsilon=engine_for(str(policy)).federated.target_epsilon,
            target_delta=engine_for(str(policy)).federated.target_delta,
            label=f"DP (σ = 0.8, ε = {results['dp']['epsilon']:.2f})",
            comparison=plain_curve,
            comparison_label="same run without noise",
        )
        (args.out / "bench_population.png").write_bytes(plots[0].read_bytes())
        (args.out / "bench_population_epsilon.png").write_bytes(plots[1].read_bytes())
    last = max(dp_curve)
    results["dp"]["accuracy"] = dp_curve[last]["accuracy"]
    results["plain"]["accuracy"] = plain_curve[rounds]["accuracy"]
    results["dp"]["curve"] = {str(k): dp_curve[k]["accuracy"] for k in sorted(dp_curve)}
    results["plain"]["curve"] = {str(k): plain_curve[k]["accuracy"] for k in sorted(plain_curve)}
    results["accuracy_cost_of_dp"] = results["plain"]["accuracy"] - results["dp"]["accuracy"]
    results["wrapper_over_plain_seconds"] = results["overhead"]["median_ratio"]
    results["bytes_ratio_to_old_interest_update"] = (
        results["plain"]["bytes_per_device_round"] / OLD_INTEREST_UPDATE_BYTES
    )
    (args.out / "bench_population.json").write_text(json.dumps(results, indent=2) + "\n", "utf-8")
    _print(results, dp_curve, plain_curve, args.out)
    return 0


if __name__ == "__main__":
    common.quiet_library_logs()  # results on stdout, progress on stderr, no Flower INFO lines
    raise SystemExit(main())
