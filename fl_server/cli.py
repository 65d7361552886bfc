"""``edgeprof simulate``: a whole federation on Flower's simulation engine, on one machine.

Register it in the ``edgeprof`` group with ``main.add_command(simulate)``.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

import click

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
    help="Virtual devices of the built-in population (ignored with --data). Default: 3000, "
    "or 1.5·k/q when q·3000 < k (15,000 for strict: k=100 at q=0.01).",
)
@click.option(
    "--rounds",
    type=click.IntRange(min=1),
    help="Rounds. Default: 30, or 10 when the policy requires secure aggregation.",
)
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
    devices: int | None,
    rounds: int | None,
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
    rules = engine.federated
    secure = rules.secure_aggregation
    needed = math.ceil(1.5 * rules.min_cohort / rules.sampling_rate)  # cohorts well above k
    population = devices or (3000 if 3000 * rules.sampling_rate >= rules.min_cohort else needed)
    nodes = _devices(data.resolve(), model) if data else population
    rounds = rounds or (10 if secure else 30)
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
    if secure:  # the identity authority's part: certified identities for the virtual devices
        from fl_server.secagg import simulation_identities

        identities, authority = simulation_identities(out / "identities", nodes)
        config.update({"secagg-identity": str(identities), "secagg-authority": str(authority)})
    click.echo(
        f"simulating {nodes} devices ({model}), {rounds} rounds under policy {policy!r} "
        f"(k={rules.min_cohort}, q={rules.sampling_rate:g}, ε≤{rules.target_epsilon:g})"
        + (", secure aggregation with distributed noise" if secure else "")
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
