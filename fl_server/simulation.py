"""Run this repository's Flower app on Flower's simulation engine (Ray), start to finish.

:func:`simulate` starts a private ``flower-superlink --simulation`` on a free loopback
port with its own ``FLWR_HOME`` (so no user connection or default SuperLink is touched),
submits the app with ``flwr run <repo> <connection> --federation-config ... --run-config
... --stream``, follows ``progress.jsonl`` while it runs, and always ends every process it
started (the SuperLink, the SuperExec and simulation processes it spawns, Ray) through
:class:`~fl_server.deploy.processes.Supervisor`. Children find Flower's programs from this
interpreter's environment (an activated virtual environment is not needed), runtime
dependency installation is off (nothing is downloaded), and their whole output goes, without
colour codes, to ``superlink.log`` and ``run.log`` in the output folder; a failure quotes
the last lines of the log at fault.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from fl_server.deploy.flwr_config import write_connection
from fl_server.deploy.launcher import flower_executable
from fl_server.deploy.processes import ManagedProcess, Supervisor, child_environment, log_tail
from fl_server.errors import ServerError
from fl_server.progress import ProgressFile

__all__ = ["SimulationRun", "failure_report", "repo_root", "simulate"]

_CONNECTION = "edgeprof"
_TAIL_LINES = 25


@dataclass(frozen=True)
class SimulationRun:
    """A finished simulation.

    Attributes
    ----------
    output_dir
        Where ``metrics.json``, plots, bundles and logs are.
    returncode
        Exit status of ``flwr run``.
    log
        The run's own log (``flwr run --stream``).
    superlink_log
        The SuperLink's log, with its SuperExec, ServerApp and simulation (Ray) processes.
    """

    output_dir: Path
    returncode: int
    log: Path
    superlink_log: Path


def repo_root() -> Path:
    """Return the repository holding this app's ``pyproject.toml``.

    Raises
    ------
    ServerError
        When ``fl_server`` is not running from a checkout with ``[tool.flwr.app]``.
    """
    root = Path(__file__).resolve().parent.parent
    project = root / "pyproject.toml"
    if not project.is_file() or "[tool.flwr.app]" not in project.read_text(encoding="utf-8"):
        raise ServerError(
            f"{root}: no pyproject.toml with [tool.flwr.app]; the simulation runs the Flower "
            "app of a repository checkout (install it with pip install -e '.[federated]')"
        )
    return root


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _literal(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return "'" + str(value).replace("'", "") + "'"


def failure_report(title: str, *logs: Path) -> str:
    """Return ``title`` followed by the last lines of each non-empty log, for an error.

    Parameters
    ----------
    title
        What failed.
    *logs
        Log files to quote, most relevant first.

    Returns
    -------
    str
        The message.
    """
    parts = [title]
    for log in logs:
        tail = log_tail(log, _TAIL_LINES)
        if tail:
            parts.append(f"last lines of {log}:")
            parts.extend(f"  | {line}" for line in tail.splitlines())
    return "\n".join(parts)


def _wait_ready(port: int, link: ManagedProcess, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not link.running():
            link.flush_log(2.0)
            raise ServerError(
                failure_report(
                    f"flower-superlink exited early (status {link.process.returncode})", link.log
                )
            )
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1.0).is_success:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise ServerError(
        failure_report(f"flower-superlink did not become ready on port {port}", link.log)
    )


def simulate(
    output_dir: Path,
    *,
    num_supernodes: int,
    run_config: Mapping[str, object],
    cpus: int = 2,
    on_log: Callable[[str], None] | None = None,
    on_round: Callable[[Mapping[str, Any]], None] | None = None,
    poll_seconds: float = 0.5,
) -> SimulationRun:
    """Run the app on ``num_supernodes`` virtual devices; outputs go to ``output_dir``.

    Parameters
    ----------
    output_dir
        Output folder (absolute paths are passed to the app).
    num_supernodes
        Virtual devices (``partition-id`` 0..n-1).
    run_config
        Run-config overrides (``output-dir`` and ``model-trust`` are set here).
    cpus
        CPUs Ray may use; each virtual client takes one.
    on_log
        Called with every line of the run's log as it streams (default: not shown).
    on_round
        Called with each round's ``progress.jsonl`` record as it appears.
    poll_seconds
        How often to look for new rounds.

    Returns
    -------
    SimulationRun
        Where everything is and how ``flwr run`` ended.

    Raises
    ------
    ServerError
        When the SuperLink does not start (with its last log lines).
    """
    out = output_dir.resolve()
    home = out / "flwr-home"
    out.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    write_connection(home, name=_CONNECTION, address=f"127.0.0.1:{port}", root_certificate=None)
    for name in ("superlink.log", "run.log"):
        (out / name).unlink(missing_ok=True)  # this run's logs only
    progress = ProgressFile(out / "progress.jsonl")
    with Supervisor(out, child_environment({"FLWR_HOME": str(home)})) as supervisor:
        link = supervisor.spawn(
            "superlink",
            [
                flower_executable("flower-superlink"),
                "--insecure",
                "--simulation",
                "--disable-runtime-dependency-installation",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            cwd=out,
        )
        _wait_ready(port, link)
        config = {
            **run_config,
            "output-dir": str(out),
            "model-trust": str(out / "keys" / "model-signing.pub"),
        }
        argv = [
            flower_executable("flwr"),
            "run",
            str(repo_root()),
            _CONNECTION,
            "--stream",
            "--federation-config",
            f"num-supernodes={num_supernodes} client-resources-num-cpus=1 "
            f"init-args-num-cpus={cpus}",
        ]
        for key, value in config.items():
            argv += ["--run-config", f"{key}={_literal(value)}"]
        runner = supervisor.spawn("run", argv, cwd=out, echo=on_log)
        while runner.running():
            supervisor.track_descendants()
            for record in progress.new_records():
                if on_round is not None:
                    on_round(record)
            time.sleep(poll_seconds)
        runner.flush_log(5.0)
        for record in progress.new_records():
            if on_round is not None:
                on_round(record)
        code = runner.process.returncode
    return SimulationRun(out, code, runner.log, link.log)
