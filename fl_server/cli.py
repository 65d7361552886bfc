"""``edgeprof simulate``: a whole federation on Flower's simulation engine, on one machine.

Register it in the ``edgeprof`` group with ``main.add_command(simulate)``. It prints one
line per round (a progress bar on a terminal) and a summary on stdout; Flower's and Ray's
logs go to ``superlink.log`` and ``run.log`` in the output folder (``-v`` also streams the
run's log to stderr) and, if the run fails, their last lines are printed on stderr.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click

from edge_client.console import ExitCode, Verbosity, fail, verbosity, verbosity_options
from edge_client.errors import EdgeProfilerError

__all__ = ["simulate"]


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
    type=click.Choice(["style", "interests", "ranking"]),
    default="style",
    show_default=True,
    help="Model to train: decision style, interests (needs --data: 20 Newsgroups authors) "
    "or ranking (SIMULATED engagement of the virtual devices; --data is not used).",
)
@click.option(
    "--devices",
    type=click.IntRange(min=1),
    default=3000,
    show_default=True,
    help="Virtual devices of the built-in population (ignored with --data).",
)
@click.option("--rounds", type=click.IntRange(min=1), default=30, show_default=True)
@click.option(
    "--policy",
    default="default",
    show_default=True,
    help="Policy preset (default, research, strict) or policy TOML path.",
)
@click.option(
    "--seed",
    type=int,
    default=0,
    show_default=True,
    help="Seed of the population, sampling and noise (reproducible runs).",
)
@click.option(
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    help="Output folder (default: runs/simulate-<time>).",
)
@click.option(
    "--cpus",
    type=click.IntRange(min=1),
    default=2,
    show_default=True,
    help="CPUs for Ray; each virtual client uses one.",
)
@verbosity_options
def simulate(
    data: Path | None,
    model: str,
    devices: int,
    rounds: int,
    policy: str,
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

    try:
        engine = engine_for(policy)
    except (EdgeProfilerError, OSError) as exc:
        raise click.UsageError(f"--policy: {exc}") from None
    if model == "interests" and not data:
        raise click.UsageError("--model interests needs --data (20 Newsgroups authors)")
    if model == "ranking":
        data = None  # ranking examples are SIMULATED engagement of virtual devices
    nodes = _devices(data.resolve(), model) if data else devices
    rules = engine.federated
    if rules.sampling_rate * nodes < rules.min_cohort:
        raise click.UsageError(
            f"expected cohort q·N = {rules.sampling_rate:g}·{nodes} is below k = "
            f"{rules.min_cohort}: every round would be skipped; use more devices or a policy "
            "with a lower k or a higher sampling rate (e.g. --policy research)"
        )
    out = output or Path("runs") / time.strftime("simulate-%Y%m%d-%H%M%S")
    config: dict[str, object] = {
        "policy": policy if not Path(policy).is_file() else str(Path(policy).resolve()),
        "num-rounds": rounds,
        "seed": seed,
        "population-seed": seed,
        "model": model,
        "initial-model": "shipped" if data or model == "ranking" else "zero",
        "data": str(data.resolve()) if data else "",
    }
    level = verbosity()
    if level > Verbosity.QUIET:
        click.echo(
            f"simulating {nodes} devices ({model}), {rounds} rounds under policy {policy!r} "
            f"(k={rules.min_cohort}, q={rules.sampling_rate:g}, ε≤{rules.target_epsilon:g}); "
            f"logs in {out}"
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
    done = [r for r in report["rounds"] if r.get("status") == "aggregated"]
    heldout = report["heldout"]
    last = heldout[max(heldout, key=int)] if heldout else {}
    spent = f"ε = {report['epsilon']:.3f} (δ = {rules.target_delta:g})"
    click.echo(
        (
            f"held-out AUC {last['auc']:.3f} after round {max(heldout, key=int)} at {spent}"
            if last
            else f"no held-out metric for this model; {spent}"
        )
        + f"; rounds aggregated: {len(done)}/{len(report['rounds'])}"
    )
    click.echo(f"report: {metrics}")
    click.echo(f"plots:  {result.output_dir / 'training.png'}, {result.output_dir / 'epsilon.png'}")
    click.echo(f"model:  {result.output_dir / 'bundles' / f'{model}-latest.bundle'} (signed)")
    click.echo(f"logs:   {result.log}, {result.superlink_log}")


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
