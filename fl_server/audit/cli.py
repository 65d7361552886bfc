"""``edgeprof audit``: run an outcome audit and read its report, with flags.

``edgeprof audit run`` runs SIMULATED devices of the built-in population through a Flower
simulation (a private SuperLink, the repository's ServerApp with ``job = "audit"``, the
ClientApp's ``query`` handler) and prints the summary; ``edgeprof audit show DIR`` prints
the summary of a report already written (``--fail-on-flag`` exits 1 when anything was
flagged, for CI gates). Register with ``main.add_command(audit)``.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click

from edge_client.console import ExitCode, Verbosity, fail, verbosity, verbosity_options
from edge_client.errors import EdgeProfilerError
from fl_server.options import cpus_option, output_option, policy_option, seed_option

__all__ = ["audit"]

_QUESTIONS = ("exposure", "offers", "engagement", "fatigue", "lift")


@click.group("audit", context_settings={"help_option_names": ["-h", "--help"]})
def audit() -> None:
    """Outcome audits: exposure disparity, fatigue and diminishing returns, privately."""


@audit.command("run")
@click.option(
    "--devices",
    type=click.IntRange(min=2),
    default=1000,
    show_default=True,
    help="Virtual devices of the built-in population (SIMULATED outcomes).",
)
@click.option(
    "--rounds",
    type=click.IntRange(min=1),
    default=4,
    show_default=True,
    help="Audit rounds, one cadence apart in virtual time.",
)
@click.option(
    "--plant",
    type=click.Choice(["none", "disparity", "fatigue", "plateau"]),
    default="none",
    show_default=True,
    help="A problem planted in the simulation for the audit to find.",
)
@click.option(
    "--question",
    "questions",
    multiple=True,
    type=click.Choice(_QUESTIONS),
    help="What to ask (repeat; default: all five). Fewer questions, less noise.",
)
@policy_option
@seed_option("the population, the simulation, sampling and noise")
@output_option("audit")
@cpus_option
@verbosity_options
def run_command(
    devices: int,
    rounds: int,
    plant: str,
    questions: tuple[str, ...],
    policy: str,
    seed: int,
    output: Path | None,
    cpus: int,
) -> None:
    """Audit what personalization does to SIMULATED devices, under a privacy policy.

    Runs the repository's Flower app on Flower's simulation engine: each round the server
    sends query messages (no training), devices answer with clipped, DP-noised aggregates
    of their own outcomes, and the server charges the policy's audit budget. Prints the
    summary with its flags; writes audit.json and the plots (exposure.png,
    engagement.png, fatigue.png, lift.png) to the output folder. Exit status 1 if the
    run fails, 2 for a usage error. Flags do not change the exit status (see 'show').
    """
    from edge_client.federated.device import engine_for
    from fl_server.audit.report import load_report, summary
    from fl_server.simulation import failure_report, simulate

    try:
        rules = engine_for(policy).policy.audit.outcomes
    except (EdgeProfilerError, OSError) as exc:
        raise click.UsageError(f"--policy: {exc}") from None
    if not rules.enabled:
        raise click.UsageError(f"--policy {policy}: audit.outcomes.enabled is false")
    if devices * rules.sampling_rate < rules.min_cohort:
        raise click.UsageError(
            f"expected cohort {rules.sampling_rate:g}·{devices} is below the audit's k = "
            f"{rules.min_cohort}: every round would be skipped; use more devices"
        )
    if rounds > rules.rounds_per_period:
        click.echo(
            f"note: the policy allows {rules.rounds_per_period} audit rounds per "
            f"{rules.period_days} days; later rounds wait for the window to move",
            err=True,
        )
    out = output or Path("runs") / time.strftime("audit-%Y%m%d-%H%M%S")
    config: dict[str, object] = {
        "job": "audit",
        "policy": policy if not Path(policy).is_file() else str(Path(policy).resolve()),
        "audit-rounds": rounds,
        "audit-questions": ",".join(questions or _QUESTIONS),
        "audit-plant": plant,
        "audit-simulated": True,
        "seed": seed,
        "population-seed": seed,
    }
    level = verbosity()
    if level > Verbosity.QUIET:
        click.echo(
            f"auditing {devices} SIMULATED devices, {rounds} round(s) under policy "
            f"{policy!r} (ε ≤ {rules.epsilon:g} per {rules.period_days} days, "
            f"k = {rules.min_cohort}, plant: {plant}); logs in {out}"
        )

    def show(record: Mapping[str, Any]) -> None:
        if level > Verbosity.QUIET:
            eps = record.get("epsilon")
            spent = f", ε {eps:.3f}" if isinstance(eps, float) else ""
            click.echo(
                f"round {record.get('round')}: {record.get('status')}, "
                f"{record.get('replies')} replies{spent}"
            )

    def stream(line: str) -> None:
        click.echo(line, nl=False, err=True)

    try:
        result = simulate(
            out,
            num_supernodes=devices,
            run_config=config,
            cpus=cpus,
            on_log=stream if level >= Verbosity.VERBOSE else None,
            on_round=show,
        )
    except EdgeProfilerError as exc:
        fail(str(exc), ExitCode.INPUT)
    report = out / "audit.json"
    if result.returncode != 0 or not report.is_file():
        fail(
            failure_report(
                f"the audit failed (flwr run exited with status {result.returncode})",
                result.log,
                result.superlink_log,
            )
        )
    click.echo(summary(load_report(report)))
    click.echo(f"report: {report}")
    click.echo(
        "plots:  "
        + ", ".join(
            str(out / n) for n in ("exposure.png", "engagement.png", "fatigue.png", "lift.png")
        )
    )


@audit.command("show")
@click.argument("folder", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option("--fail-on-flag", is_flag=True, help="Exit with status 1 when anything is flagged.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON instead.")
def show_command(folder: Path, fail_on_flag: bool, as_json: bool) -> None:
    """Print the summary and flags of the audit report in FOLDER (its audit.json)."""
    import json

    from fl_server.audit.report import load_report, summary

    try:
        document = load_report(folder / "audit.json")
    except EdgeProfilerError as exc:
        fail(str(exc), ExitCode.INPUT)
    click.echo(json.dumps(document, indent=2, sort_keys=True) if as_json else summary(document))
    if fail_on_flag and any(f.get("kind") != "imprecise" for f in document["flags"]):
        sys.exit(int(ExitCode.INPUT))
