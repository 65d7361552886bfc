"""Benchmark adaptation: federated rounds fit the interest model to people it was never trained on.

The starting model is the shipped interest recipe (``models/interests.py``: frozen int8
encoder, 36×36 head, temperature) refitted here **without 20 Newsgroups** (reddit-top2013
and AG News only; not shipped, built into the work folder and reused). The new population is
20 Newsgroups: one author of the train split who never posts in the test split = one device
(:func:`edge_client.federated.news.news_author_posts`), groups mapped by ``NEWSGROUP_LABELS``.
Only the head (1,332 values) trains, on each device through the variant ``.tflite``'s own
``train`` signature inside the real ClientApp (signed bundles, policy checks, clipping). The
metric is top-1 accuracy on the 20 Newsgroups test split: authors never seen in training.

In one run, side by side (table on stdout, ``reports/bench_adaptation.json``,
``reports/bench_adaptation.png``):

* **start**: the variant as built (its head reads its own floored label log-probabilities);
* **federated**: Flower's ``FedAvg`` of the devices' clipped updates, devices Poisson-sampled
  at the research policy's rate each round, no noise (DP off), applied with a server step
  of 10 (FedOpt's server learning rate, Reddi et al. 2021; the policy strategy's
  ``server-learning-rate``): devices hold one to three posts, so a round's mean update is
  one short step and thirty plain steps stay far from where centralized fine-tuning's
  ~2,000 SGD steps get (0.64 against 0.71 in the design loop);
* **centralized fine-tuning**: the same head, the same ``train`` signature, the same
  learning rate and batch size on the pooled examples of the same devices, each round a
  pass over the examples of an equally Poisson-sampled share of devices for the same local
  epochs (so every example is seen as often as in the federated run);
* **federated + DP** (unless ``--no-dp``): the project's policy strategy
  (:func:`fl_server.app.run_server`: sampling, cohort ≥ k, validation, Gaussian noise, ε
  ledger with dp-accounting, checkpoints) under the ``research`` policy preset, the same
  server step (post-processing of the noised mean: no extra ε);
* for reference, the shipped model, whose encoder was trained on other 20 Newsgroups authors.

Targets (issue 10): federated ≥ start + 0.10 and |federated − centralized| ≤ 0.02. Rounds run
on an in-process grid (:class:`fl_server.local_grid.LocalGrid`): the numbers are about
learning, not Ray start-up. Needs the ``build`` extra (TensorFlow, to convert the variant)
and ``../shared/data``. ``--quick`` builds the variant from a stride of the training texts
and federates a stride of the authors for fewer rounds (a smoke test, not the figures).
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import _bench_common as common

common.use_repo_imports()

import numpy as np  # noqa: E402  (after the repository is importable)
import numpy.typing as npt  # noqa: E402

from edge_client.federated.examples import LocalExamples, interest_examples  # noqa: E402
from edge_client.federated.news import news_author_posts, news_test_posts  # noqa: E402
from edge_client.models import LiteModel, ModelName, load_model  # noqa: E402
from edge_client.taxonomy import load_taxonomy  # noqa: E402
from edge_client.text.features import TextCounts, extract  # noqa: E402
from fl_server.cli import INTEREST_SERVER_LEARNING_RATE  # noqa: E402

POLICY = "research"
"""The policy preset devices and server run under (its q, k, clip; its noise for the DP run)."""
VARIANT_DIR = "interests-without-20news"
_BATCH = 256


@dataclass(frozen=True)
class Config:
    """One benchmark configuration.

    Attributes
    ----------
    rounds : int
        Federated rounds (and centralized round-equivalents).
    epochs : int
        Local epochs per round (passes over a sampled device's examples).
    learning_rate, batch_size : float, int
        SGD step size and batch size, the same for devices and centralized fine-tuning.
    server_learning_rate : float
        The federated server's step on each round's mean update (FedOpt's server learning
        rate, Reddi et al. 2021): both federated arms use it.
    devices : int or None
        Devices (a stride of the authors; ``None``: all).
    test_posts : int or None
        Test posts scored (a stride; ``None``: all).
    build_texts : int or None
        Training texts of the variant (a stride; ``None``: all).
    """

    rounds: int
    epochs: int
    learning_rate: float
    batch_size: int
    devices: int | None
    test_posts: int | None
    build_texts: int | None
    server_learning_rate: float


FULL = Config(30, 2, 0.2, 16, None, None, None, INTEREST_SERVER_LEARNING_RATE)
QUICK = Config(5, 2, 0.2, 16, 300, 800, 3000, INTEREST_SERVER_LEARNING_RATE)


def _stride(items: Sequence[Any], limit: int | None) -> list[Any]:
    if limit is None or len(items) <= limit:
        return list(items)
    step = len(items) / limit
    return [items[int(i * step)] for i in range(limit)]


# ---------------------------------------------------------------------------------- variant
def build_variant(work: Path, config: Config) -> Path:
    """Fit the interest recipe without 20 Newsgroups and convert it (reused when present).

    Returns
    -------
    Path
        The directory holding the variant's ``interests.tflite`` and sidecar.
    """
    from models import data, interests

    corpus = data.interest_corpus()
    keep = [d for d in corpus.train if d.source is not data.Source.NEWS20]
    keep_val = [d for d in corpus.validation if d.source is not data.Source.NEWS20]
    train = _stride(keep, config.build_texts)
    validation = _stride(keep_val, None if config.build_texts is None else config.build_texts // 10)
    key = hashlib.sha256(
        json.dumps(
            [
                len(train),
                len(validation),
                interests.REGULARISATION_C,
                interests.HASH_DIM,
                interests.LOG_PROB_FLOOR,
                interests.WHITENING_RIDGE,
            ]
        ).encode()
    ).hexdigest()[:12]
    out = work / f"{VARIANT_DIR}-{key}"
    if (out / "interests.tflite").is_file() and (out / "interests.json").is_file():
        common.progress(f"variant: reusing {out}")
        return out
    from models.build import export_interests

    common.progress(
        f"variant: features of {len(train)} training and {len(validation)} validation texts "
        "(reddit-top2013, AG News; no 20 Newsgroups)"
    )
    labels = list(load_taxonomy().labels)
    started = time.perf_counter()
    model = interests.fit_model(
        [extract(d.text) for d in train],
        train,
        [extract(d.text) for d in validation],
        validation,
        labels,
        absent_labels=True,
    )
    common.progress(f"variant: fitted in {time.perf_counter() - started:.0f} s; converting")
    export_interests(model, out)
    return out


# ------------------------------------------------------------------------------- evaluation
@dataclass(frozen=True)
class HeldOut:
    """The test split: authors never seen by any device."""

    counts: list[TextCounts]
    labels: npt.NDArray[np.intp]

    def accuracy(self, model: LiteModel) -> float:
        """Top-1 accuracy of ``model`` (its current weights)."""
        hits = 0
        for i in range(0, len(self.counts), _BATCH):
            probs = model.predict(self.counts[i : i + _BATCH])
            hits += int(np.sum(np.argmax(probs, axis=1) == self.labels[i : i + _BATCH]))
        return round(hits / len(self.counts), 4)


Weights = dict[str, npt.NDArray[np.float32]]
Scorer = Callable[[Weights], float]


def _scorer(model: LiteModel, held: HeldOut) -> Scorer:
    def score(weights: Weights) -> float:
        model.set_weights(weights)
        return held.accuracy(model)

    return score


# ----------------------------------------------------------------------------- centralized
def centralized(
    model: LiteModel,
    examples: Sequence[LocalExamples],
    config: Config,
    q: float,
    score: Scorer,
) -> dict[str, Any]:
    """Fine-tune the head on the pooled examples of the devices, round by round."""
    rng = np.random.default_rng(7)
    curve, steps = [], 0
    started = time.perf_counter()
    for _ in range(config.rounds):
        chosen = [e for e, u in zip(examples, rng.random(len(examples)), strict=True) if u < q]
        counts = [c for e in chosen for c in e.counts]
        targets = np.concatenate([e.targets for e in chosen]) if chosen else np.zeros((0, 0))
        for _ in range(config.epochs):
            order = rng.permutation(len(counts))
            for i in range(0, len(order), config.batch_size):
                batch = order[i : i + config.batch_size]
                model.train_step(
                    [counts[j] for j in batch], targets[batch], learning_rate=config.learning_rate
                )
                steps += 1
        curve.append(score(model.get_weights()))
    return {"curve": curve, "sgd_steps": steps, "seconds": time.perf_counter() - started}


# ------------------------------------------------------------------------------- federated
def _run_config(work: Path, data: str, variant: Path, config: Config) -> dict[str, Any]:
    return {
        "model": "interests",
        "policy": POLICY,
        "data": data,
        "model-dir": str(variant),
        "model-trust": str(work / "keys" / "model-signing.pub"),
        "signing-key": str(work / "keys" / "model-signing.key"),
        "local-epochs": config.epochs,
        "learning-rate": config.learning_rate,
        "server-learning-rate": config.server_learning_rate,
        "batch-size": config.batch_size,
        "initial-model": "shipped",
        "seed": 1,
        "heldout-eval": False,
        "output-dir": str(work / "policy-dp"),
    }


def federated_plain(
    grid: Any, start: Weights, config: Config, q: float, score: Scorer
) -> dict[str, Any]:
    """Flower ``FedAvg`` of the ClientApp's clipped updates, Poisson sampling at ``q``, no noise.

    The mean update is applied with the server step the policy strategy uses
    (:class:`fl_server.server_opt.ServerOptimizer`, step ``config.server_learning_rate``).
    """
    from _bench_rounds import PlainRound, send_plain_round
    from flwr.serverapp.strategy import FedAvg

    from edge_client.federated.device import engine_for
    from fl_server.local_grid import LocalGrid
    from fl_server.publish import ensure_signing_key
    from fl_server.server_opt import ServerOptimizer

    engine = engine_for(POLICY)
    server = ServerOptimizer(learning_rate=config.server_learning_rate)
    plan = PlainRound(
        local_epochs=config.epochs,
        learning_rate=config.learning_rate,
        batch_size=config.batch_size,
        sampling_rate=q,
    )
    key = ensure_signing_key(Path(grid.contexts[min(grid.contexts)].run_config["signing-key"]))
    nodes = list(grid.get_node_ids())
    fedavg, weights = FedAvg(weighted_by_key="num_examples"), dict(start)
    rng = np.random.default_rng(11)
    curve, cohorts, sizes, refused = [], [], [], 0
    started = time.perf_counter()
    for r in range(1, config.rounds + 1):
        sample = [n for n, u in zip(nodes, rng.random(len(nodes)), strict=True) if u < q]
        replies = send_plain_round(
            grid, sample, server_round=r, weights=weights, engine=engine, key=key, plan=plan
        )
        answered = [m for m in replies if not m.has_error()]
        refused += len(replies) - len(answered)
        mean, _ = fedavg.aggregate_train(r, answered)
        if mean is not None:
            weights, _ = server.step(weights, {k: a.numpy() for k, a in mean.items()}, {})
        sizes += [len(LocalGrid.reply_bytes(m)) for m in answered]
        cohorts.append(len(answered))
        curve.append(score(weights))
        common.progress(f"federated: round {r}/{config.rounds}, accuracy {curve[-1]:.4f}")
    return {
        "curve": curve,
        "clients_per_round": float(np.mean(cohorts)),
        "refused_replies": refused,
        "bytes_per_client_round": float(np.mean(sizes)) if sizes else 0.0,
        "seconds": time.perf_counter() - started,
    }


def federated_dp(grid: Any, base: dict[str, Any], config: Config, score: Scorer) -> dict[str, Any]:
    """The policy strategy (``run_server``) with the research policy's DP, one round per call.

    Each call resumes from the run's checkpoint (the real resume path) for one more round,
    so the published model of every round is scored.
    """
    from edge_client.federated.bundle import verify_model_bundle
    from edge_client.federated.device import engine_for
    from edge_client.policy import TrustStore
    from fl_server.app import run_server
    from fl_server.settings import ServerSettings

    engine = engine_for(POLICY)
    trust = TrustStore.load(Path(base["model-trust"]))
    curve: list[float] = []
    epsilon = 0.0
    started = time.perf_counter()
    for r in range(1, config.rounds + 1):
        result = run_server(grid, ServerSettings.from_run_config({**base, "num-rounds": r}))
        epsilon = result.epsilon
        latest = result.output_dir / "bundles" / "interests-latest.bundle"
        final = verify_model_bundle(
            latest.read_bytes(), trust, policy_hash=engine.policy_hash, model="interests"
        )
        curve.append(score(dict(final.weights)))
        common.progress(f"federated + DP: round {r}, accuracy {curve[-1]:.4f}, ε {epsilon:.2f}")
    report = json.loads(result.metrics.read_text(encoding="utf-8"))
    statuses = [str(x["status"]) for x in report["rounds"]]
    return {
        "curve": curve,
        "epsilon": epsilon,
        "delta": engine.federated.target_delta,
        "target_epsilon": engine.federated.target_epsilon,
        "noise_multiplier": engine.federated.noise_multiplier,
        "rounds_aggregated": statuses.count("aggregated"),
        "round_statuses": statuses,
        "seconds": time.perf_counter() - started,
    }


# ------------------------------------------------------------------------------------ plot
def plot(path: Path, results: dict[str, Any]) -> None:
    """Held-out accuracy per round: federated, federated + DP, centralized, start line."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    fig, axis = plt.subplots(figsize=(7.5, 5.2))
    rounds = list(range(0, results["config"]["rounds"] + 1))
    start = results["start"]["accuracy"]
    axis.axhline(start, color="grey", linestyle="--", label=f"start (no 20 Newsgroups) {start:.3f}")
    shipped = results["shipped_reference"]["accuracy"]
    axis.axhline(
        shipped,
        color="grey",
        linestyle=":",
        label=f"shipped model (encoder saw 20NG) {shipped:.3f}",
    )
    lines = [
        ("centralized", "centralized fine-tuning (same head, data, epochs)", "tab:orange", "s-"),
        ("federated", "federated FedAvg, DP off", "tab:blue", "o-"),
        ("federated_dp", "federated, policy strategy + DP", "tab:green", "^-"),
    ]
    for key, name, colour, style in lines:
        if key in results:
            curve = [start, *results[key]["curve"]]
            budget = (
                f" (ε={results[key]['epsilon']:.1f}, δ={results[key]['delta']:g})"
                if key == "federated_dp"
                else ""
            )
            text = f"{name}{budget}: {curve[-1]:.3f}"
            axis.plot(rounds, curve, style, color=colour, label=text, ms=4)
    axis.xaxis.set_major_locator(MaxNLocator(integer=True))
    axis.set_xlabel("round")
    axis.set_ylabel("top-1 accuracy (unseen authors)")
    axis.set_title("Adapting the interest head to a new population")
    axis.grid(alpha=0.3)
    fig.legend(loc="lower center", ncol=1, fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0.2, 1, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)


# ------------------------------------------------------------------------------------ main
def run(args: argparse.Namespace) -> dict[str, Any]:
    """Run every arm; return the report."""
    from edge_client.federated.app import make_client_app
    from edge_client.federated.device import engine_for
    from fl_server.local_grid import LocalGrid
    from fl_server.publish import ensure_signing_key

    config = QUICK if args.quick else FULL
    overrides = {
        "rounds": args.rounds,
        "epochs": args.epochs,
        "learning_rate": args.learning_rate,
        "batch_size": args.batch_size,
        "server_learning_rate": args.server_learning_rate,
    }
    config = Config(**{**config.__dict__, **{k: v for k, v in overrides.items() if v is not None}})
    data = str(args.data.resolve())
    work: Path = args.work
    variant = build_variant(work, config)
    labels = load_taxonomy().labels
    index = {label: i for i, label in enumerate(labels)}

    authors = news_author_posts(data)
    ids = _stride(range(len(authors)), config.devices)
    common.progress(f"devices: {len(ids)} authors; features of their posts and of the test split")
    examples = [interest_examples(authors[i], labels=labels) for i in ids]
    test = _stride(news_test_posts(data), config.test_posts)
    held = HeldOut([extract(text) for text, _ in test], np.array([index[g] for _, g in test]))

    model = LiteModel(variant / "interests.tflite")
    start = model.get_weights()
    shipped = load_model(ModelName.INTERESTS)
    score = _scorer(LiteModel(variant / "interests.tflite"), held)
    q = engine_for(POLICY).federated.sampling_rate
    results: dict[str, Any] = {
        "config": {**config.__dict__, "policy": POLICY, "sampling_rate": q},
        "variant": {
            "model_dir": str(variant),
            "sub_labels": len(
                json.loads((variant / "interests.json").read_text(encoding="utf-8"))["sub_labels"]
            ),
            "trainable_values": sum(v.size for v in start.values()),
        },
        "devices": len(ids),
        "device_posts": sum(len(e) for e in examples),
        "test_posts": len(test),
        "start": {"accuracy": held.accuracy(model)},
        "shipped_reference": {"accuracy": held.accuracy(shipped)},
    }
    common.progress(f"start accuracy {results['start']['accuracy']:.4f}; centralized fine-tuning")
    results["centralized"] = centralized(model, examples, config, q, score)

    base = _run_config(work / "run", data, variant, config)
    ensure_signing_key(Path(base["signing-key"]))
    nodes = [{"partition-id": i} for i in ids]
    client_app = make_client_app()
    results["federated"] = federated_plain(
        LocalGrid(client_app, nodes, base, keep=False), start, config, q, score
    )
    if not args.no_dp:
        results["federated_dp"] = federated_dp(
            LocalGrid(client_app, nodes, base, keep=False), base, config, score
        )
    fed = results["federated"]["curve"][-1]
    cen = results["centralized"]["curve"][-1]
    s0 = results["start"]["accuracy"]
    targets = (
        (common.Target("federated_gain_over_start", 0.10, common.Direction.AT_LEAST, ""), fed - s0),
        (
            common.Target("federated_gap_to_centralized", 0.02, common.Direction.AT_MOST, ""),
            abs(fed - cen),
        ),
    )
    results["targets"] = {t.name: t.report(round(v, 4)) for t, v in targets}
    return results


def config_step(results: dict[str, Any]) -> str:
    """The server step of the run, as printed in the table."""
    return f"{results['config']['server_learning_rate']:g}"


def _table(results: dict[str, Any]) -> str:
    rows: list[list[object]] = [
        ["start: recipe without 20 Newsgroups", f"{results['start']['accuracy']:.4f}", "", ""],
        [
            "centralized fine-tuning of the head",
            f"{results['centralized']['curve'][-1]:.4f}",
            f"{results['centralized']['sgd_steps']} SGD steps",
            f"{results['centralized']['seconds']:.0f}",
        ],
        [
            f"federated FedAvg (clipped, DP off, server step {config_step(results)})",
            f"{results['federated']['curve'][-1]:.4f}",
            f"{results['federated']['clients_per_round']:.0f} devices/round",
            f"{results['federated']['seconds']:.0f}",
        ],
    ]
    if "federated_dp" in results:
        dp = results["federated_dp"]
        rows.append(
            [
                f"federated, policy strategy + DP ({POLICY})",
                f"{dp['curve'][-1]:.4f}",
                f"ε={dp['epsilon']:.2f}, δ={dp['delta']:g}",
                f"{dp['seconds']:.0f}",
            ]
        )
    rows.append(
        [
            "reference: shipped model (saw 20NG)",
            f"{results['shipped_reference']['accuracy']:.4f}",
            "",
            "",
        ]
    )
    table = common.format_table(["arm", "accuracy (unseen authors)", "detail", "seconds"], rows)
    targets = common.format_table(
        ["target", "value", "threshold", "passed"],
        [
            [name, f"{t['value']:.4f}", f"{t['direction']} {t['threshold']}", t["passed"]]
            for name, t in results["targets"].items()
        ],
    )
    return table + "\n\n" + targets


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; return the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small smoke configuration")
    parser.add_argument("--rounds", type=int, help="override the number of rounds")
    parser.add_argument("--epochs", type=int, help="override the local epochs per round")
    parser.add_argument("--learning-rate", type=float, help="override the SGD step size")
    parser.add_argument("--batch-size", type=int, help="override the SGD batch size")
    parser.add_argument(
        "--server-learning-rate", type=float, help="override the federated server step"
    )
    parser.add_argument("--no-dp", action="store_true", help="skip the DP run")
    parser.add_argument("--data", type=Path, default=common.REPO_ROOT.parent / "shared" / "data")
    parser.add_argument(
        "--out", type=Path, default=common.REPO_ROOT / "reports" / "bench_adaptation.json"
    )
    parser.add_argument(
        "--work",
        type=Path,
        default=common.REPO_ROOT / "reports" / "adaptation",
        help="where the variant model, keys and checkpoints go (the variant is reused)",
    )
    args = parser.parse_args(argv)
    missing = common.data_missing_reason(args.data)
    if missing:
        return common.write_skipped(args.out, "bench_adaptation", missing)
    if importlib.util.find_spec("tensorflow") is None and not any(
        args.work.glob(f"{VARIANT_DIR}-*/interests.tflite")
    ):
        return common.write_skipped(
            args.out,
            "bench_adaptation",
            "TensorFlow (to convert the variant model) missing: pip install -e '.[build]'",
        )
    if (args.work / "run").exists():
        import shutil

        shutil.rmtree(args.work / "run")  # a fresh federation every run (the variant stays)
    common.quiet_library_logs()  # Flower warns that federated evaluation is off
    results = run(args)
    results["environment"] = common.environment()
    print(_table(results))
    common.write_json(args.out, results)
    plot(args.out.with_suffix(".png"), results)
    print(f"written: {args.out} and {args.out.with_suffix('.png')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
