"""``edgeprof simulate``: a whole federation on Flower's simulation engine, on one machine.

Register it in the ``edgeprof`` group with ``main.add_command(simulate)``.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING

import click

from edge_client.errors import EdgeProfilerError

if TYPE_CHECKING:
    from edge_client.policy import PolicyEngine

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
@click.option("--quiet", is_flag=True, help="Do not stream Flower's log.")
def simulate(
    data: Path | None,
    model: str,
    devices: int,
    rounds: int,
    policy: str,
    seed: int,
    output: Path | None,
    cpus: int,
    quiet: bool,
) -> None:
    """Train a shipped model across virtual devices under a privacy policy.

    Runs the repository's Flower app (ServerApp fl_server.app, ClientApp
    edge_client.federated.app) on Flower's simulation engine and prints where the report
    (metrics.json: metrics and ε per round) and the plots are.
    """
    from edge_client.federated.device import engine_for
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
    _check_resume(out, engine, model, rounds)
    config: dict[str, object] = {
        "policy": policy if not Path(policy).is_file() else str(Path(policy).resolve()),
        "num-rounds": rounds,
        "seed": seed,
        "population-seed": seed,
        "model": model,
        "initial-model": "shipped" if data or model == "ranking" else "zero",
        "data": str(data.resolve()) if data else "",
    }
    click.echo(
        f"simulating {nodes} devices ({model}), {rounds} rounds under policy {policy!r} "
        f"(k={rules.min_cohort}, q={rules.sampling_rate:g}, ε≤{rules.target_epsilon:g})"
    )
    try:
        result = run(out, num_supernodes=nodes, run_config=config, cpus=cpus, echo=not quiet)
    except EdgeProfilerError as exc:
        raise click.ClickException(str(exc)) from None
    metrics = result.output_dir / "metrics.json"
    if result.returncode != 0 or not metrics.is_file():
        raise click.ClickException(f"the run failed; see {result.log}")
    report = json.loads(metrics.read_text(encoding="utf-8"))
    done = [r for r in report["rounds"] if r.get("status") == "aggregated"]
    heldout = report["heldout"]
    last = heldout[max(heldout, key=int)] if heldout else {}
    click.echo(
        f"rounds aggregated: {len(done)}/{len(report['rounds'])}, "
        f"ε spent: {report['epsilon']:.3f} (δ={rules.target_delta:g})"
        + (f", held-out AUC: {last['auc']:.3f}" if last else "")
    )
    click.echo(f"report: {metrics}")
    click.echo(f"plots:  {result.output_dir / 'training.png'}, {result.output_dir / 'epsilon.png'}")
    click.echo(f"model:  {result.output_dir / 'bundles' / f'{model}-latest.bundle'} (signed)")
    click.echo(f"log:    {result.log}")
