"""``edgeprof deploy``: certificates, keys and a loopback deployment on Flower's engine.

Register with ``main.add_command(deploy)`` in :mod:`edge_client.cli`. Commands:

* ``deploy certs DIR`` — local CA, SuperLink certificate, SuperNode key pairs;
* ``deploy node-key DIR NAME`` — one more (or a rotated) SuperNode key pair;
* ``deploy server-cert DIR`` — a new SuperLink certificate from the folder's CA;
* ``deploy local`` — SuperLink + SuperNodes with TLS and SuperNode authentication on
  loopback, ``flwr run``, report, and every process ended.
"""

from __future__ import annotations

import signal
import sys
import tempfile
from pathlib import Path
from types import FrameType

import click

from fl_server.deploy import (
    LOOPBACK_HOSTS,
    DeployError,
    DeployReport,
    DeploySettings,
    make_credentials,
    make_node_key,
    reissue_server_certificate,
    run_local,
)
from fl_server.deploy.flwr_config import ConfigValue

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = ["deploy"]


@click.group("deploy")
def deploy() -> None:
    """Deploy the federation on Flower's deployment engine (SuperLink + SuperNodes)."""


@deploy.command("certs")
@click.argument("directory", type=click.Path(path_type=Path))
@click.option("--nodes", default=3, show_default=True, help="SuperNode key pairs to make.")
@click.option(
    "--host",
    "hosts",
    multiple=True,
    help="Address or name of the SuperLink (repeat; default: 127.0.0.1, ::1, localhost).",
)
@click.option("--days", default=30, show_default=True, help="Certificate validity.")
@click.option("--force", is_flag=True, help="Replace existing files (rotation).")
def certs(*, directory: Path, nodes: int, hosts: tuple[str, ...], days: int, force: bool) -> None:
    """Write a local CA, the SuperLink's TLS certificate and SuperNode keys to DIRECTORY."""
    try:
        made = make_credentials(
            directory, nodes=nodes, hosts=hosts or LOOPBACK_HOSTS, valid_days=days, overwrite=force
        )
    except DeployError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"CA certificate      {made.ca_certificate}  (give to SuperNodes and flwr)")
    click.echo(f"CA key              {made.ca_key}  (keep offline)")
    click.echo(f"SuperLink cert/key  {made.server_certificate}, {made.server_key}")
    for key in made.nodes:
        click.echo(f"SuperNode key pair  {key.private_key}, {key.public_key}")


@deploy.command("node-key")
@click.argument("directory", type=click.Path(path_type=Path))
@click.argument("name")
@click.option("--force", is_flag=True, help="Replace an existing key pair (rotation).")
def node_key(*, directory: Path, name: str, force: bool) -> None:
    """Write the SuperNode key pair NAME, NAME.pub to DIRECTORY."""
    try:
        made = make_node_key(directory, name, overwrite=force)
    except DeployError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{made.private_key}\n{made.public_key}")
    click.echo(f"register it: flwr supernode register {made.public_key} <connection>")


@deploy.command("server-cert")
@click.argument("directory", type=click.Path(path_type=Path, exists=True, file_okay=False))
@click.option("--host", "hosts", multiple=True, help="Address or name (repeat).")
@click.option("--days", default=30, show_default=True, help="Certificate validity.")
def server_cert(*, directory: Path, hosts: tuple[str, ...], days: int) -> None:
    """Replace the SuperLink certificate in DIRECTORY with one signed by its CA."""
    try:
        certificate, key = reissue_server_certificate(
            directory, hosts=hosts or LOOPBACK_HOSTS, valid_days=days
        )
    except DeployError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{certificate}\n{key}\nrestart flower-superlink to load them")


def _parse_overrides(pairs: tuple[str, ...]) -> dict[str, ConfigValue]:
    values: dict[str, ConfigValue] = {}
    for pair in pairs:
        key, sep, literal = pair.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"{pair!r} is not key=value", param_hint="--run-config")
        try:
            value = tomllib.loads(f"v = {literal}")["v"]
        except tomllib.TOMLDecodeError:
            value = literal  # a bare word is a string
        if not isinstance(value, bool | int | float | str):
            raise click.BadParameter(f"{key}: only scalar values", param_hint="--run-config")
        values[key.strip()] = value
    return values


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt  # SIGTERM ends the deployment like Ctrl-C: processes cleaned up


def _print_report(report: DeployReport) -> None:
    click.echo(f"run {report.run_id}: {report.status}")
    for record in report.rounds:
        click.echo(
            f"  round {record.get('round')}: {record.get('status')}"
            f" cohort={record.get('cohort')} accepted={record.get('accepted', '-')}"
            f" ε={float(record.get('epsilon', 0.0)):.3f}"
        )
    click.echo(f"report: {report.output_dir / 'metrics.json'}")
    click.echo(f"logs:   {report.logs}")


@deploy.command("local")
@click.option("--nodes", default=3, show_default=True, help="SuperNodes (devices) to start.")
@click.option("--rounds", default=2, show_default=True, help="Federated rounds.")
@click.option("--min-cohort", default=2, show_default=True, help="k of the loopback policy.")
@click.option(
    "--work-dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Folder for keys, logs and outputs (default: a new temporary folder, kept).",
)
@click.option(
    "--app-dir",
    type=click.Path(path_type=Path, exists=True, file_okay=False),
    default=Path(),
    show_default=True,
    help="The Flower app (folder with pyproject.toml).",
)
@click.option("--run-config", "run_config", multiple=True, help="Extra key=value (repeat).")
@click.option("--timeout", default=300.0, show_default=True, help="Seconds for the run.")
@click.option("--insecure", is_flag=True, help="Plain HTTP, no SuperNode auth (debug only).")
@click.option(
    "--secure-aggregation",
    is_flag=True,
    help="Use the strict preset: secure aggregation with distributed noise, device identities.",
)
def local(
    *,
    nodes: int,
    rounds: int,
    min_cohort: int,
    work_dir: Path | None,
    app_dir: Path,
    run_config: tuple[str, ...],
    timeout: float,
    insecure: bool,
    secure_aggregation: bool,
) -> None:
    """Run the federation on SuperLink + SuperNodes over loopback, then end every process."""
    folder = work_dir or Path(tempfile.mkdtemp(prefix="edgeprof-deploy-"))
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        settings = DeploySettings(
            app_dir=app_dir.resolve(),
            work_dir=folder,
            nodes=nodes,
            num_rounds=rounds,
            secure=not insecure,
            min_cohort=min_cohort,
            run_config=_parse_overrides(run_config),
            run_timeout=timeout,
            secure_aggregation=secure_aggregation,
        )
        click.echo(f"deploying {nodes} SuperNodes on loopback; files in {folder}")
        report = run_local(settings)
    except DeployError as exc:
        raise click.ClickException(f"{exc} (logs: {folder / 'logs'})") from None
    except KeyboardInterrupt:
        click.echo("interrupted; every process was ended", err=True)
        sys.exit(130)
    finally:
        signal.signal(signal.SIGTERM, previous)
    _print_report(report)
    if not report.completed:
        raise click.ClickException(f"run ended with status {report.status}")
