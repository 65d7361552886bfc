"""Run this repository's Flower app on Flower's simulation engine (Ray), start to finish.

:func:`simulate` starts a private ``flower-superlink --simulation`` on a free loopback
port with its own ``FLWR_HOME`` (so no user connection or default SuperLink is touched),
submits the app with ``flwr run <repo> <connection> --federation-config ... --run-config
... --stream``, waits for it, and always stops the SuperLink it started (by its process
group, which it created). Runtime dependency installation is disabled: the app runs in
the current environment and nothing is downloaded.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx

from fl_server.errors import ServerError

__all__ = ["SimulationRun", "repo_root", "simulate"]


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
        The streamed run log.
    """

    output_dir: Path
    returncode: int
    log: Path


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
        raise ServerError(f"{root}: no pyproject.toml with [tool.flwr.app]; run from the repo")
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


def _wait_ready(port: int, process: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServerError(f"flower-superlink exited early (status {process.returncode})")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1.0).is_success:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise ServerError(f"flower-superlink did not become ready on port {port}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)  # the group this function created
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def simulate(
    output_dir: Path,
    *,
    num_supernodes: int,
    run_config: Mapping[str, object],
    cpus: int = 2,
    echo: bool = True,
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
    echo
        Also print the run log while it streams.

    Returns
    -------
    SimulationRun
        Where everything is and how ``flwr run`` ended.
    """
    out = output_dir.resolve()
    home = out / "flwr-home"
    home.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    (home / "config.toml").write_text(
        f'[superlink]\ndefault = "edgeprof"\n\n[superlink.edgeprof]\n'
        f'address = "127.0.0.1:{port}"\ninsecure = true\n',
        encoding="utf-8",
    )
    env = {
        **os.environ,
        "FLWR_HOME": str(home),
        "FLWR_DISABLE_RUNTIME_DEPENDENCY_INSTALLATION": "1",
    }
    bindir = Path(sys.executable).parent
    link = subprocess.Popen(
        [
            str(bindir / "flower-superlink"),
            "--insecure",
            "--simulation",
            "--disable-runtime-dependency-installation",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-file",
            str(out / "superlink.log"),
        ],
        env=env,
        cwd=out,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    log = out / "run.log"
    try:
        _wait_ready(port, link)
        config = {
            **run_config,
            "output-dir": str(out),
            "model-trust": str(out / "keys" / "model-signing.pub"),
        }
        argv = [
            str(bindir / "flwr"),
            "run",
            str(repo_root()),
            "edgeprof",
            "--stream",
            "--federation-config",
            f"num-supernodes={num_supernodes} client-resources-num-cpus=1 "
            f"init-args-num-cpus={cpus}",
        ]
        for key, value in config.items():
            argv += ["--run-config", f"{key}={_literal(value)}"]
        with log.open("w", encoding="utf-8") as sink:
            runner = subprocess.Popen(
                argv, env=env, cwd=out, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
            )
            if runner.stdout is None:
                raise ServerError("flwr run: no output pipe")
            for line in runner.stdout:
                sink.write(line)
                if echo:
                    sys.stdout.write(line)
            code = runner.wait()
    finally:
        _stop(link)
    return SimulationRun(out, code, log)
