"""A Flower deployment on real processes over loopback: SuperLink, SuperNodes, ``flwr run``.

:class:`LocalDeployment` is Flower's own deployment engine started on one machine:

1. certificates and keys (:func:`~fl_server.deploy.certs.make_credentials`), the
   model-signing key devices trust, and a loopback-sized policy
   (:func:`~fl_server.deploy.policy.write_loopback_policy`);
2. ``flower-superlink`` with TLS (``--ssl-ca-certfile/--ssl-certfile/--ssl-keyfile``) and
   ``--enable-supernode-auth``, on ``127.0.0.1:<free port>`` (Runtime, Control and Fleet
   APIs share it in Flower 1.41);
3. each SuperNode's public key registered with ``flwr supernode register``;
4. one ``flower-supernode`` per device with ``--root-certificates``,
   ``--auth-supernode-private-key`` and its own ``--node-config`` (``partition-id`` picks
   the person; ``policy`` and ``model-trust`` are the device's own settings);
5. ``flwr run <app> <connection> --run-config <file>`` from a temporary ``FLWR_HOME``
   whose ``config.toml`` holds the connection and the root certificate; the run is
   polled with ``flwr ls`` until it finishes or the time limit passes (then ``flwr stop``);
6. every process ends when the ``with`` block ends
   (:class:`~fl_server.deploy.processes.Supervisor`).

With ``secure=False`` the links are plain HTTP without SuperNode authentication (Flower
requires TLS for it); with ``capture=True`` the SuperNodes reach the SuperLink through a
:class:`~fl_server.deploy.proxy.RecordingProxy`, for the wire-capture privacy test.
Nothing listens beyond loopback; nothing is downloaded (telemetry, update checks and
runtime dependency installation are switched off).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType, TracebackType
from typing import Any

from fl_server.deploy.certs import Credentials, NodeKey, make_credentials
from fl_server.deploy.errors import LaunchError
from fl_server.deploy.files import private_dir, write_private
from fl_server.deploy.flwr_config import (
    ConfigValue,
    node_config_arg,
    toml_document,
    write_connection,
)
from fl_server.deploy.policy import write_loopback_policy
from fl_server.deploy.processes import (
    ManagedProcess,
    Supervisor,
    child_environment,
    interpreter_scripts,
)
from fl_server.deploy.proxy import RecordingProxy
from fl_server.publish import ensure_signing_key

__all__ = [
    "CONNECTION",
    "DeployReport",
    "DeploySettings",
    "LocalDeployment",
    "flower_executable",
    "run_local",
]

CONNECTION = "loopback"
"""Name of the SuperLink connection in the temporary ``$FLWR_HOME/config.toml``."""
_HOST = "127.0.0.1"
_CLI_TIMEOUT = 90.0


def _no_config() -> Mapping[str, ConfigValue]:
    return MappingProxyType({})


def flower_executable(name: str) -> str:
    """Return the path of a Flower program (this interpreter's scripts first, then ``PATH``).

    Raises
    ------
    LaunchError
        When the program is not installed.
    """
    found = shutil.which(name, path=os.pathsep.join(interpreter_scripts())) or shutil.which(name)
    if found is None:
        raise LaunchError(f"{name}: not installed (pip install 'edge-profiler[federated]')")
    return found


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((_HOST, 0))
        return int(probe.getsockname()[1])


def _port_open(port: int) -> bool:
    try:
        with socket.create_connection((_HOST, port), timeout=0.5):
            return True
    except OSError:
        return False


def _json(text: str) -> Any:
    start = text.find("{")
    if start < 0:
        raise LaunchError("flwr: no JSON in the command's output")
    value, _ = json.JSONDecoder().raw_decode(text[start:])
    return value


@dataclass(frozen=True)
class DeploySettings:
    """What to deploy.

    Attributes
    ----------
    app_dir
        The Flower app (folder with ``pyproject.toml``): the repository root.
    work_dir
        Folder for credentials, Flower homes, logs and the run's output (0700).
    nodes
        SuperNodes to start (one device each, ``partition-id`` 0..nodes-1).
    num_rounds
        ``num-rounds`` of the run.
    secure
        TLS and SuperNode authentication (``False``: plain HTTP, no authentication).
    capture
        Route SuperNodes through a recording proxy (needs ``secure=False``).
    min_cohort
        ``min_cohort`` of the loopback policy (at most ``nodes``).
    run_config
        Extra ``--run-config`` values (over the ones the deployment sets).
    node_config
        Extra node config of every SuperNode (e.g. ``data``).
    ready_timeout
        Seconds for processes to come up.
    run_timeout
        Seconds for the run to finish.
    """

    app_dir: Path
    work_dir: Path
    nodes: int = 3
    num_rounds: int = 2
    secure: bool = True
    capture: bool = False
    min_cohort: int = 2
    run_config: Mapping[str, ConfigValue] = field(default_factory=_no_config)
    node_config: Mapping[str, ConfigValue] = field(default_factory=_no_config)
    ready_timeout: float = 60.0
    run_timeout: float = 300.0

    def __post_init__(self) -> None:
        """Check the settings."""
        if not 2 <= self.min_cohort <= self.nodes or self.num_rounds < 1:
            raise LaunchError("deploy settings: need 2 <= min_cohort <= nodes and num_rounds >= 1")
        if self.capture and self.secure:
            raise LaunchError("deploy settings: capture needs secure=False (TLS hides bytes)")
        if self.ready_timeout <= 0 or self.run_timeout <= 0:
            raise LaunchError("deploy settings: timeouts must be positive")
        if not (self.app_dir / "pyproject.toml").is_file():
            raise LaunchError(f"deploy settings: {self.app_dir} has no pyproject.toml")


@dataclass(frozen=True)
class DeployReport:
    """The outcome of one run.

    Attributes
    ----------
    run_id
        Flower's run id.
    status
        Flower's final status (``finished:completed`` on success).
    output_dir
        The ServerApp's ``output-dir`` (``metrics.json``, ``progress.jsonl``, plots).
    rounds
        Records of ``progress.jsonl``, one per round.
    logs
        Folder of the process logs (``run.log`` holds the run's own log).
    details
        Flower's run record (``flwr ls --format json``: elapsed, network traffic).
    """

    run_id: int
    status: str
    output_dir: Path
    rounds: tuple[Mapping[str, Any], ...]
    logs: Path
    details: Mapping[str, Any]

    @property
    def completed(self) -> bool:
        """Return whether Flower reports the run as completed."""
        return self.status == "finished:completed"


class LocalDeployment:
    """SuperLink and SuperNodes on loopback (see the module docstring).

    Parameters
    ----------
    settings
        What to deploy.
    """

    def __init__(self, settings: DeploySettings) -> None:
        self.settings = settings
        work = private_dir(settings.work_dir.resolve())
        self.work = work
        self.logs = private_dir(work / "logs")
        self.output = private_dir(work / "output")
        self.cli_home = private_dir(work / "flwr-home" / "cli")
        self.supervisor = Supervisor(self.logs, child_environment())
        self.proxy: RecordingProxy | None = None
        self.credentials: Credentials | None = None
        self.superlink: ManagedProcess | None = None
        self.supernodes: list[ManagedProcess] = []
        self.port = 0
        self.policy = work / "policy.toml"
        self.trust = work / "keys" / "model-signing.pub"

    # lifecycle ----------------------------------------------------------------------
    def __enter__(self) -> LocalDeployment:
        """Start the SuperLink and the SuperNodes; clean up if that fails."""
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        """End every process and the proxy."""
        self.close()

    def close(self) -> list[int]:
        """End every process (SuperNodes first) and the proxy; return ids that survived."""
        survivors = self.supervisor.stop_all()
        if self.proxy is not None:
            self.proxy.close()
        return survivors

    def prepare(self) -> None:
        """Write credentials (secure mode), the model-signing key and the loopback policy."""
        settings = self.settings
        if settings.secure:
            self.credentials = make_credentials(
                self.work / "credentials", nodes=settings.nodes, overwrite=True
            )
        ensure_signing_key(self.work / "keys" / "model-signing.key")
        write_loopback_policy(self.policy, min_cohort=settings.min_cohort)

    def start(self) -> None:
        """Prepare, start the SuperLink, register the keys and start every SuperNode."""
        settings = self.settings
        self.prepare()
        self.start_superlink()
        keys: list[NodeKey | None] = [None] * settings.nodes
        if self.credentials is not None:
            keys = list(self.credentials.nodes)
            for node_key in self.credentials.nodes:
                self.register(node_key)
        if settings.capture:
            self.proxy = RecordingProxy(self.port).__enter__()
        for index, key in enumerate(keys):
            self.start_supernode(index, key)
        self.wait_online(settings.nodes)

    # processes ----------------------------------------------------------------------
    def start_superlink(self, *, attempts: int = 3) -> ManagedProcess:
        """Start ``flower-superlink`` on a free loopback port (bounded retries).

        Raises
        ------
        LaunchError
            After ``attempts`` failures, with the last attempt's own last log lines.
        """
        tail = ""
        for attempt in range(attempts):
            self.port = _free_port()
            argv = [
                flower_executable("flower-superlink"),
                "--host",
                _HOST,
                "--port",
                str(self.port),
                "--disable-runtime-dependency-installation",
                *self._tls_server_args(),
            ]
            process = self.supervisor.spawn(
                f"superlink-{attempt}", argv, env={"FLWR_HOME": str(self._home("superlink"))}
            )
            if self._wait(lambda: _port_open(self.port), process):
                write_connection(
                    self.cli_home,
                    name=CONNECTION,
                    address=f"{_HOST}:{self.port}",
                    root_certificate=self._root(),
                )
                self.superlink = process
                return process
            self.supervisor.stop(process)
            tail = process.log_tail()
        raise LaunchError(
            f"flower-superlink did not start ({attempts} attempts); see {self.logs}" + _quoted(tail)
        )

    def _tls_server_args(self) -> list[str]:
        creds = self.credentials
        if creds is None:
            return ["--insecure"]
        return [
            "--ssl-ca-certfile",
            str(creds.ca_certificate),
            "--ssl-certfile",
            str(creds.server_certificate),
            "--ssl-keyfile",
            str(creds.server_key),
            "--enable-supernode-auth",
        ]

    def _root(self) -> Path | None:
        return None if self.credentials is None else self.credentials.ca_certificate

    def _home(self, name: str) -> Path:
        return private_dir(self.work / "flwr-home" / name)

    def device_config(self, index: int) -> dict[str, ConfigValue]:
        """Return the node config of device ``index`` (its person, policy, trusted key)."""
        return {
            "partition-id": index,
            "policy": str(self.policy),
            "model-trust": str(self.trust),
            **self.settings.node_config,
        }

    def start_supernode(
        self,
        index: int,
        key: NodeKey | None,
        *,
        node_config: Mapping[str, ConfigValue] | None = None,
        max_retries: int = 3,
        max_wait_time: float = 20.0,
        name: str | None = None,
    ) -> ManagedProcess:
        """Start one ``flower-supernode`` (device ``index``) and return it.

        Parameters
        ----------
        index
            Device index (``partition-id``).
        key
            Its authentication key pair (``None``: no authentication).
        node_config
            Node config (default: :meth:`device_config`).
        max_retries, max_wait_time
            Bounds on reconnecting to the SuperLink.
        name
            Process name (default ``supernode-<index>``).

        Returns
        -------
        ManagedProcess
            The started process.
        """
        target = self.proxy.port if self.proxy is not None else self.port
        tls = (
            ["--root-certificates", str(self.credentials.ca_certificate)]
            if self.credentials is not None
            else ["--insecure"]
        )
        auth = ["--auth-supernode-private-key", str(key.private_key)] if key is not None else []
        config = self.device_config(index) if node_config is None else dict(node_config)
        argv = [
            flower_executable("flower-supernode"),
            "--superlink",
            f"{_HOST}:{target}",
            *tls,
            *auth,
            "--host",
            _HOST,
            "--port",
            str(_free_port()),
            "--max-retries",
            str(max_retries),
            "--max-wait-time",
            str(max_wait_time),
            "--node-config",
            node_config_arg(config),
        ]
        label = name or f"supernode-{index}"
        process = self.supervisor.spawn(label, argv, env={"FLWR_HOME": str(self._home(label))})
        self.supernodes.append(process)
        return process

    def _wait(
        self, ready: Callable[[], bool], process: ManagedProcess, *, timeout: float | None = None
    ) -> bool:
        deadline = time.monotonic() + (timeout or self.settings.ready_timeout)
        while time.monotonic() < deadline:
            if not process.running():
                return False
            if ready():
                return True
            time.sleep(0.2)
        return False

    # flwr CLI -----------------------------------------------------------------------
    def flwr(self, *args: str, timeout: float = _CLI_TIMEOUT) -> Any:
        """Run ``flwr <args> --format json`` against the deployment; return its JSON.

        Raises
        ------
        LaunchError
            When the command fails, times out or prints no JSON.
        """
        argv = [flower_executable("flwr"), *args, "--format", "json"]
        try:
            done = subprocess.run(
                argv,
                capture_output=True,
                text=True,
                timeout=timeout,
                env={**self.supervisor.env, "FLWR_HOME": str(self.cli_home)},
                cwd=self.settings.app_dir,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise LaunchError(f"flwr {args[0]}: no answer within {timeout:g} s") from None
        result = _json(done.stdout) if "{" in done.stdout else {}
        if done.returncode != 0 or not result.get("success", False):
            detail = result.get("error-message", done.stderr.strip()[-300:])
            raise LaunchError(f"flwr {' '.join(args[:2])}: failed ({detail})")
        return result

    def register(self, key: NodeKey, *, attempts: int = 3) -> int:
        """Register a SuperNode public key with the SuperLink; return its node id."""
        error: LaunchError | None = None
        for _ in range(attempts):
            try:
                result = self.flwr("supernode", "register", str(key.public_key), CONNECTION)
                return int(result["node-id"])
            except LaunchError as exc:
                error = exc
                time.sleep(1.0)
        raise LaunchError(f"register {key.name}: {error}")

    def online_nodes(self) -> list[int]:
        """Return the ids of SuperNodes the SuperLink sees online."""
        result = self.flwr("supernode", "list", CONNECTION)
        return [int(n["node-id"]) for n in result.get("nodes", []) if n.get("status") == "online"]

    def wait_online(self, count: int) -> None:
        """Wait until ``count`` SuperNodes are online (bounded by ``ready_timeout``)."""
        deadline = time.monotonic() + self.settings.ready_timeout
        while time.monotonic() < deadline:
            if len(self.online_nodes()) >= count:
                return
            dead = [p for p in self.supernodes if not p.running()]
            if dead:
                raise LaunchError(
                    f"SuperNodes exited: {', '.join(p.name for p in dead)}; see {self.logs}"
                    + _quoted(dead[0].log_tail(), f"last lines of {dead[0].log.name}")
                )
            time.sleep(1.0)
        raise LaunchError(f"fewer than {count} SuperNodes online after the time limit")

    def run_config(self) -> dict[str, ConfigValue]:
        """Return the run config the deployment passes to ``flwr run``."""
        return {
            "num-rounds": self.settings.num_rounds,
            "policy": str(self.policy),
            "sampling-rate": 1.0,
            "output-dir": str(self.output),
            "signing-key": str(self.work / "keys" / "model-signing.key"),
            "model-trust": str(self.trust),
            "heldout-eval": False,
            **self.settings.run_config,
        }

    def run(self) -> DeployReport:
        """Run the app once with ``flwr run`` and wait (bounded) for it to finish.

        Returns
        -------
        DeployReport
            Status, per-round records and where the outputs are.

        Raises
        ------
        LaunchError
            When the run cannot start or does not finish within ``run_timeout``.
        """
        overrides = write_private(
            self.work / "run-config.toml",
            toml_document(self.run_config()).encode(),
            overwrite=True,
        )
        started = self.flwr(
            "run", str(self.settings.app_dir), CONNECTION, "--run-config", str(overrides)
        )
        run_id = int(started["run-id"])
        deadline = time.monotonic() + self.settings.run_timeout
        details: Mapping[str, Any] = {}
        while time.monotonic() < deadline:
            self.supervisor.track_descendants()
            runs = self.flwr("list", CONNECTION, "--run-id", str(run_id)).get("runs", [])
            details = runs[0] if runs else {}
            if str(details.get("status", "")).startswith("finished"):
                break
            time.sleep(1.0)
        else:
            try:
                self.flwr("stop", str(run_id), CONNECTION)
            finally:
                raise LaunchError(f"run {run_id} did not finish in {self.settings.run_timeout:g} s")
        self._save_run_log(run_id)
        return DeployReport(
            run_id=run_id,
            status=str(details.get("status", "")),
            output_dir=self.output,
            rounds=tuple(_progress(self.output / "progress.jsonl")),
            logs=self.logs,
            details=dict(details),
        )

    def _save_run_log(self, run_id: int) -> None:
        try:
            done = subprocess.run(
                [flower_executable("flwr"), "log", str(run_id), CONNECTION, "--show"],
                capture_output=True,
                text=True,
                timeout=30,
                env={**self.supervisor.env, "FLWR_HOME": str(self.cli_home)},
                check=False,
            )
        except subprocess.TimeoutExpired:
            return
        write_private(self.logs / "run.log", done.stdout.encode(), overwrite=True)


def _quoted(tail: str, title: str = "its last log lines") -> str:
    """Return a child's log tail indented under ``title``, for an error message."""
    if not tail:
        return ""
    return f"\n{title}:\n" + "\n".join(f"  | {line}" for line in tail.splitlines())


def _progress(path: Path) -> list[Mapping[str, Any]]:
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def run_local(settings: DeploySettings) -> DeployReport:
    """Deploy, run once and clean up; the one-call form of :class:`LocalDeployment`.

    Parameters
    ----------
    settings
        What to deploy.

    Returns
    -------
    DeployReport
        The run's outcome.
    """
    with LocalDeployment(settings) as deployment:
        return deployment.run()
