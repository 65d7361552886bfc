"""``edgeprof simulate``: a whole federation on Flower's simulation engine, on one machine.

Register it in the ``edgeprof`` group with ``main.add_command(simulate)``. It prints one
line per round (a progress bar on a terminal) and a summary on stdout; Flower's and Ray's
logs go to ``superlink.log`` and ``run.log`` in the output folder (``-v`` also streams the
run's log to stderr) and, if the run fails, their last lines are printed on stderr.
"""

from __future__ import annotations

import json
import math
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from edge_client.console import ExitCode, Verbosity, fail, verbosity, verbosity_options
from edge_client.errors import EdgeProfilerError
from fl_server.options import cpus_option, output_option, seed_option

if TYPE_CHECKING:
    from edge_client.policy import PolicyEngine
    from edge_client.policy.model import FederatedRules

__all__ = [
    "BUILTIN_ROUNDS",
    "INTEREST_LEARNING_RATE",
    "INTEREST_SERVER_LEARNING_RATE",
    "OTHER_LEARNING_RATE",
    "simulate",
]

INTEREST_LEARNING_RATE = 0.2
"""Local SGD step of the interest head (its input is whitened: one step size suits it)."""
INTEREST_SERVER_LEARNING_RATE = 10.0
"""Server step on the interest jobs' noised mean update (FedOpt's server learning rate).

Devices hold one to three posts, so one round's mean update is a short step; a step of 10
reaches the held-out loss of 0.9 in 16 rounds where FedAvg's step of 1 is still at 1.9
after 20 (same accuracy), and lets federated fine-tuning match centralized fine-tuning
(``scripts/bench_adaptation.py``). Post-processing of the noised mean: no extra ε.
"""
OTHER_LEARNING_RATE = 0.5
"""Local SGD step of the style and ranking jobs."""
BUILTIN_ROUNDS = 20
"""Rounds of the built-in interest job: ε 6.70 at δ = 1e-5, well inside three minutes."""


def _devices(data: Path, model: str) -> int:
    """Return how many devices ``--data`` gives the model (MBTI users or news authors)."""
    if model == "interests":
        from edge_client.federated.errors import FederatedError
        from edge_client.federated.news import news_author_posts

        try:
            return len(news_author_posts(str(data)))
        except FederatedError as exc:
            raise click.UsageError(f"--data: {exc}") from None
    from edge_client.federated.device import mbti_split

    path = data / "mbti" / "users.jsonl"
    if not path.is_file():
        raise click.UsageError(f"{path}: not found (--data expects the shared data folder)")
    count = 0
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip() and not mbti_split(str(json.loads(line)["user_id"])):
                count += 1
    return count


def _check_resume(out: Path, engine: PolicyEngine, model: str, rounds: int) -> None:
    """Refuse plainly, before any process starts, a run whose checkpoint is complete."""
    from edge_client.policy.accounting import RoundCharge
    from fl_server.checkpoint import CHECKPOINT_NAME, CheckpointStore, resume_note

    rules = engine.federated
    try:
        state = CheckpointStore(out / CHECKPOINT_NAME).load(
            policy_hash=engine.policy_hash,
            model=model,
            legacy_charge=RoundCharge(rules.sampling_rate, rules.noise_multiplier),
        )
    except EdgeProfilerError as exc:
        raise click.ClickException(str(exc)) from None
    note = None if state is None else resume_note(state, rounds, out)
    if note is not None:
        raise click.ClickException(note.replace("num-rounds", "--rounds"))


@click.command("simulate")
@click.option(
    "--data",
    type=click.Path(file_okay=False, path_type=Path),
    help="Shared data folder (e.g. ../shared/data): one MBTI user (style) or one "
    "20 Newsgroups author (interests) = one device. "
    "Default: the built-in seeded population of virtual devices.",
)
@click.option(
    "--model",
    type=click.Choice(["interests", "style", "ranking"]),
    default="interests",
    show_default=True,
    help="Model to train: the interest model's head (built-in reddit-top2013 population, "
    "or 20 Newsgroups authors with --data), decision style (phrase-bank virtual people, or "
    "MBTI users with --data) or ranking (SIMULATED engagement; --data is not used).",
)
@click.option(
    "--devices",
    type=click.IntRange(min=1),
    help="Virtual devices (ignored with --data). Interests: the first N training devices "
    "of the built-in population (default: all 3,559). Style and ranking: default 3000, "
    "or 1.5·k/q when q·3000 < k (15,000 for strict: k=100 at q=0.01).",
)
@click.option(
    "--rounds",
    type=click.IntRange(min=1),
    help="Rounds. Default: 20 for the built-in interest job, 10 when the policy requires "
    "secure aggregation, else 30.",
)
@click.option(
    "--policy",
    default=None,
    help="Policy preset (default, research, strict) or policy TOML path. Default: research "
    "for the built-in interest job (its cohorts of ~356 devices keep the noise small; 20 "
    "rounds spend ε 6.70 at δ = 1e-5), default for every other job.",
)
@seed_option("the population, sampling and noise (reproducible runs)")
@output_option("simulate")
@cpus_option
@verbosity_options
def simulate(
    data: Path | None,
    model: str,
    devices: int | None,
    rounds: int | None,
    policy: str | None,
    seed: int,
    output: Path | None,
    cpus: int,
) -> None:
    """Train a shipped model across virtual devices under a privacy policy.

    Runs the repository's Flower app (ServerApp fl_server.app, ClientApp
    edge_client.federated.app) on Flower's simulation engine, prints one line per round
    and, at the end, the held-out metric with the ε spent and where the report
    (metrics.json), the plots, the signed model and the logs are. Flower's and Ray's logs
    go to the output folder (-v streams the run's log to stderr; -q prints no progress).
    Exit status 1 if the run fails (the end of its log is printed), 2 for a usage error.
    """
    from edge_client.federated.device import engine_for
    from fl_server.progress import RoundPrinter
    from fl_server.simulation import failure_report
    from fl_server.simulation import simulate as run

    policy = policy or ("research" if model == "interests" and not data else "default")
    try:
        engine = engine_for(policy)
    except (EdgeProfilerError, OSError) as exc:
        raise click.UsageError(f"--policy: {exc}") from None
    if model == "ranking":
        data = None  # ranking examples are SIMULATED engagement of virtual devices
    builtin = model == "interests" and not data  # the reddit-top2013 population
    rules = engine.federated
    secure = rules.secure_aggregation
    nodes = (
        _devices(data.resolve(), model)
        if data
        else _builtin_devices(devices)
        if builtin
        else _population(rules, devices)
    )
    rounds = rounds or (10 if secure else BUILTIN_ROUNDS if builtin else 30)
    if rules.sampling_rate * nodes < rules.min_cohort:
        raise click.UsageError(
            f"expected cohort q·N = {rules.sampling_rate:g}·{nodes} is below k = "
            f"{rules.min_cohort}: every round would be skipped; use more devices or a policy "
            "with a lower k or a higher sampling rate (e.g. --policy research)"
        )
    out = output or Path("runs") / time.strftime("simulate-%Y%m%d-%H%M%S")
    _check_resume(out, engine, model, rounds)
    config = _run_config(policy, rounds, seed, model, data)
    if secure:  # the identity authority's part: certified identities for the virtual devices
        from fl_server.secagg import simulation_identities

        identities, authority = simulation_identities(out / "identities", nodes)
        config.update({"secagg-identity": str(identities), "secagg-authority": str(authority)})
    level = verbosity()
    if level > Verbosity.QUIET:
        click.echo(
            f"simulating {nodes} devices ({model}), {rounds} rounds under policy {policy!r} "
            f"(k={rules.min_cohort}, q={rules.sampling_rate:g}, ε≤{rules.target_epsilon:g})"
            + (", secure aggregation with distributed noise" if secure else "")
            + f"; logs in {out}"
        )
    printer = RoundPrinter(sys.stdout, rounds)

    def show(record: Mapping[str, Any]) -> None:
        if level > Verbosity.QUIET:
            printer.show(record)

    def stream(line: str) -> None:
        click.echo(line, nl=False, err=True)

    try:
        result = run(
            out,
            num_supernodes=nodes,
            run_config=config,
            cpus=cpus,
            on_log=stream if level >= Verbosity.VERBOSE else None,
            on_round=show,
        )
    except EdgeProfilerError as exc:
        printer.close()
        fail(str(exc), ExitCode.INPUT)
    printer.close()
    metrics = result.output_dir / "metrics.json"
    if result.returncode != 0 or not metrics.is_file():
        fail(
            failure_report(
                f"the run failed (flwr run exited with status {result.returncode})",
                result.log,
                result.superlink_log,
            )
        )
    report = json.loads(metrics.read_text(encoding="utf-8"))
    click.echo(_summary(report, delta=rules.target_delta))
    click.echo(f"report: {metrics}")
    click.echo(f"plots:  {result.output_dir / 'training.png'}, {result.output_dir / 'epsilon.png'}")
    click.echo(f"model:  {result.output_dir / 'bundles' / f'{model}-latest.bundle'} (signed)")
    click.echo(f"logs:   {result.log}, {result.superlink_log}")


def _population(rules: FederatedRules, devices: int | None) -> int:
    """Virtual devices to simulate: as asked, else 3,000 or enough for cohorts well above k."""
    if devices:
        return devices
    if 3000 * rules.sampling_rate >= rules.min_cohort:
        return 3000
    return math.ceil(1.5 * rules.min_cohort / rules.sampling_rate)


def _run_config(
    policy: str, rounds: int, seed: int, model: str, data: Path | None
) -> dict[str, object]:
    """The run config of a simulation (the built-in interest job trains its head from zero)."""
    config: dict[str, object] = {
        "policy": policy if not Path(policy).is_file() else str(Path(policy).resolve()),
        "num-rounds": rounds,
        "seed": seed,
        "population-seed": seed,
        "model": model,
        "initial-model": "shipped" if data or model == "ranking" else "zero",
        "data": str(data.resolve()) if data else "",
        "learning-rate": INTEREST_LEARNING_RATE if model == "interests" else OTHER_LEARNING_RATE,
        "server-learning-rate": INTEREST_SERVER_LEARNING_RATE if model == "interests" else 1.0,
    }
    return config


def _builtin_devices(devices: int | None) -> int:
    """Training devices of the built-in population to simulate (all, or the first N)."""
    from edge_client.federated.reddit_population import load_population

    available = load_population().train_devices
    if devices is not None and devices > available:
        raise click.UsageError(
            f"--devices: the built-in population has {available} training devices"
        )
    return devices or available


_METRIC_NAMES = {"auc": "AUC", "accuracy": "top-1 accuracy"}


def _summary(report: Mapping[str, Any], *, delta: float) -> str:
    """The last line of a simulation: held-out metric, ε spent and rounds aggregated."""
    done = [r for r in report["rounds"] if r.get("status") == "aggregated"]
    heldout = report["heldout"]
    spent = f"ε = {report['epsilon']:.3f} (δ = {delta:g})"
    if heldout:
        last_round = max(heldout, key=int)
        scores = heldout[last_round]
        metric = next(k for k in _METRIC_NAMES if k in scores)
        head = (
            f"held-out {_METRIC_NAMES[metric]} {scores[metric]:.3f} after round {last_round} "
            f"at {spent}"
        )
    else:
        head = f"no held-out metric for this model; {spent}"
    return head + f"; rounds aggregated: {len(done)}/{len(report['rounds'])}"


@click.group("flower")
def flower() -> None:
    """Tidy up after Flower's own tooling (flwr run .)."""


@flower.command("stop")
@click.option(
    "--flwr-home",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="The FLWR_HOME that flwr run used (default: $FLWR_HOME, else ~/.flwr).",
)
def flower_stop(flwr_home: Path | None) -> None:
    """End the local SuperLink that 'flwr run' started for FLWR_HOME, and its helpers.

    'flwr run .' against Flower's default local connection starts a SuperLink in the
    background and leaves it running; this ends it (and the SuperExec and simulation
    processes it started). Other SuperLinks are never touched. Exit status 1 if a process
    survived.
    """
    from fl_server.deploy.local_superlink import default_flwr_home, stop_local_superlink

    home = (flwr_home or default_flwr_home()).expanduser()
    stopped = stop_local_superlink(home)
    if not stopped.superlinks:
        click.echo(f"no local SuperLink is running for FLWR_HOME={home}")
        return
    if stopped.survivors:
        fail(f"processes {list(stopped.survivors)} survived SIGKILL")
    pids = ", ".join(str(p) for p in stopped.superlinks)
    click.echo(
        f"stopped the local SuperLink of FLWR_HOME={home} (pid {pids}) "
        f"and {len(stopped.helpers)} process(es) it started"
    )
