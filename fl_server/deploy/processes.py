"""Supervised child processes: each in its own process group, always cleaned up.

Flower's long-running processes start helpers of their own: ``flower-superlink`` starts a
detached ``flower-superexec`` (its own session) that starts ``flwr-serverapp``;
``flower-supernode`` starts ``flower-superexec`` that starts ``flwr-clientapp``. Killing a
process group therefore is not enough. :class:`Supervisor` starts every process in a new
session (so a Ctrl-C in the terminal reaches only the launcher, which then cleans up),
and :meth:`Supervisor.stop_all` collects each process's descendants with ``psutil``
*before* signalling, sends ``SIGTERM`` to the groups and descendants, waits a bounded
time and sends ``SIGKILL`` to whatever is left. Use it as a context manager: the processes end
on success, on error and on ``KeyboardInterrupt`` alike.

Flower starts its helpers **by name** (``flower-superlink`` runs ``flower-superexec``), so
every child gets :func:`child_environment`: ``PATH`` begins with the scripts folders of the
running interpreter, and ``.venv/bin/edgeprof`` works without an activated virtual
environment (or from a pipx install). Each child's stdout and stderr (and its helpers',
which inherit them) go through a pipe into ``<log_dir>/<name>.log`` with terminal colour
codes removed, so a failure can quote the child's own last lines (:meth:`ManagedProcess.log_tail`).
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import signal
import site
import subprocess
import sys
import sysconfig
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO

import psutil

from fl_server.deploy.errors import LaunchError
from fl_server.deploy.files import FILE_MODE

__all__ = [
    "ManagedProcess",
    "Supervisor",
    "child_environment",
    "interpreter_scripts",
    "live_processes",
    "log_tail",
    "strip_ansi",
]

_LOG = logging.getLogger("fl_server.deploy")
_ANSI = re.compile(rb"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[@-Z\\-_]")
_QUIET_ENV = {
    "FLWR_TELEMETRY_ENABLED": "0",
    "FLWR_DISABLE_UPDATE_CHECK": "1",
    "FLWR_DISABLE_RUNTIME_DEPENDENCY_INSTALLATION": "1",
    "PYTHONUNBUFFERED": "1",
    "NO_COLOR": "1",
}
LineSink = Callable[[str], None]


def interpreter_scripts() -> list[str]:
    """Return the folders holding the running interpreter's console scripts, first first.

    The folder of ``sys.executable`` (a virtual environment's ``bin``) comes first, then
    the ``scripts`` folder of the interpreter's install scheme and, where user site
    packages are on, a ``--user`` install's (``~/.local/bin``), each once.
    """
    folders = [str(Path(sys.executable).parent)]
    schemes = [sysconfig.get_default_scheme()]
    if site.ENABLE_USER_SITE:  # off in a virtual environment: its own bin is the place
        schemes.append(sysconfig.get_preferred_scheme("user"))
    for scheme in schemes:
        with contextlib.suppress(KeyError):
            folders.append(sysconfig.get_path("scripts", scheme))
    return list(dict.fromkeys(f for f in folders if f))


def child_environment(
    extra: Mapping[str, str] | None = None, *, base: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Return the environment of a child process the project starts.

    Parameters
    ----------
    extra
        Variables to set over the result (e.g. ``FLWR_HOME``).
    base
        The environment to start from (default: this process's).

    Returns
    -------
    dict[str, str]
        ``base`` with :func:`interpreter_scripts` in front of ``PATH`` (so programs started
        by name are this environment's), Flower's telemetry, update check and runtime
        dependency installation off, unbuffered Python output, then ``extra``.
    """
    env = dict(os.environ if base is None else base)
    path = [p for p in env.get("PATH", "").split(os.pathsep) if p]
    scripts = interpreter_scripts()
    env["PATH"] = os.pathsep.join([*scripts, *(p for p in path if p not in scripts)])
    env.update(_QUIET_ENV)
    env.update(extra or {})
    return env


def strip_ansi(data: bytes) -> bytes:
    """Return ``data`` without terminal escape sequences (colours, cursor moves)."""
    return _ANSI.sub(b"", data)


def log_tail(path: Path, lines: int = 20) -> str:
    """Return the last ``lines`` lines of a log file ("" if it is missing or empty).

    Parameters
    ----------
    path
        The log file.
    lines
        How many lines.

    Returns
    -------
    str
        The lines, joined with newlines, colour codes removed.
    """
    try:
        with path.open("rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - 64 * 1024))
            data = handle.read()
    except OSError:
        return ""
    text = strip_ansi(data).decode("utf-8", errors="replace")
    return "\n".join(text.rstrip().splitlines()[-lines:])


class _LogPump(threading.Thread):
    """Copy a child's output pipe into its log file line by line, without colour codes."""

    def __init__(self, stream: IO[bytes], log: Path, echo: LineSink | None) -> None:
        super().__init__(name=f"log-pump-{log.stem}", daemon=True)
        self.stream = stream
        self.log = log
        self.echo = echo

    def run(self) -> None:
        descriptor = os.open(self.log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, FILE_MODE)
        with os.fdopen(descriptor, "ab") as sink, self.stream:
            for raw in iter(self.stream.readline, b""):
                clean = strip_ansi(raw)
                sink.write(clean)
                sink.flush()
                if self.echo is not None:
                    self.echo(clean.decode("utf-8", errors="replace"))


@dataclass(frozen=True)
class ManagedProcess:
    """One supervised process.

    Attributes
    ----------
    name
        Short name (also the log file stem).
    process
        The ``Popen`` handle.
    log
        File receiving its stdout and stderr.
    """

    name: str
    process: subprocess.Popen[bytes]
    log: Path
    pump: threading.Thread | None = field(default=None, compare=False, repr=False)

    @property
    def pid(self) -> int:
        """Return the process id (also its process group id)."""
        return self.process.pid

    def running(self) -> bool:
        """Return whether the process has not exited yet."""
        return self.process.poll() is None

    def log_tail(self, lines: int = 20) -> str:
        """Return the last ``lines`` lines of the process's log (for error reports)."""
        self.flush_log(0.5)
        return log_tail(self.log, lines)

    def flush_log(self, timeout: float) -> None:
        """Wait up to ``timeout`` seconds for an exited process's output to reach its log."""
        if self.pump is not None and not self.running():
            self.pump.join(timeout)


def live_processes(pids: Sequence[int]) -> list[int]:
    """Return the ids among ``pids`` of processes that still run (zombies count as gone).

    Parameters
    ----------
    pids
        Process ids.

    Returns
    -------
    list[int]
        Those still running.
    """
    alive = []
    for pid in pids:
        try:
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                alive.append(pid)
        except psutil.NoSuchProcess:
            continue
    return alive


def _descendants(pid: int) -> list[psutil.Process]:
    try:
        return list(psutil.Process(pid).children(recursive=True))
    except psutil.NoSuchProcess:
        return []


class Supervisor:
    """Start processes in their own sessions and end all of them (see the module docstring).

    Parameters
    ----------
    log_dir
        Folder for the processes' log files.
    env
        Environment of every process (default: :func:`child_environment`).
    grace
        Seconds to wait after ``SIGTERM`` before ``SIGKILL``.
    """

    def __init__(
        self, log_dir: Path, env: Mapping[str, str] | None = None, *, grace: float = 5.0
    ) -> None:
        self.log_dir = log_dir
        self.env = child_environment() if env is None else dict(env)
        self.grace = grace
        self.processes: list[ManagedProcess] = []
        self.seen: dict[int, float] = {}  # pid -> creation time (guards against pid reuse)

    def __enter__(self) -> Supervisor:
        """Return the supervisor."""
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        """End every process, whatever happened."""
        self.stop_all()

    def spawn(
        self,
        name: str,
        argv: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        echo: LineSink | None = None,
    ) -> ManagedProcess:
        """Start ``argv`` in a new session, logging to ``<log_dir>/<name>.log``.

        Parameters
        ----------
        name
            Short name of the process.
        argv
            Command line.
        env
            Extra environment variables (over the supervisor's).
        cwd
            Working directory.
        echo
            Also called with every line of output (colour codes removed).

        Returns
        -------
        ManagedProcess
            The started process.

        Raises
        ------
        LaunchError
            When the program cannot be started.
        """
        log = self.log_dir / f"{name}.log"
        try:
            process = subprocess.Popen(
                list(argv),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                env={**self.env, **(env or {})},
                cwd=cwd,
                start_new_session=True,
            )
        except OSError as exc:
            raise LaunchError(f"{name}: cannot start {argv[0]} ({exc.strerror})") from None
        if process.stdout is None:  # pragma: no cover - stdout=PIPE always gives a pipe
            raise LaunchError(f"{name}: no output pipe")
        pump = _LogPump(process.stdout, log, echo)
        pump.start()
        managed = ManagedProcess(name, process, log, pump)
        self.processes.append(managed)
        self._remember([process.pid])
        return managed

    def _remember(self, pids: list[int]) -> None:
        for pid in pids:
            with contextlib.suppress(psutil.NoSuchProcess):
                self.seen.setdefault(pid, psutil.Process(pid).create_time())

    def track_descendants(self) -> None:
        """Remember the current descendants of every process (helpers started later)."""
        for managed in self.processes:
            self._remember([child.pid for child in _descendants(managed.pid)])

    def survivors(self) -> list[int]:
        """Return the ids of every process ever seen here that still runs (not a zombie)."""
        alive = []
        for pid, created in sorted(self.seen.items()):
            try:
                process = psutil.Process(pid)
                if process.create_time() == created and process.status() != psutil.STATUS_ZOMBIE:
                    alive.append(pid)
            except psutil.NoSuchProcess:
                continue
        return alive

    def stop(self, managed: ManagedProcess) -> list[int]:
        """End one process, its group and its descendants; return ids that survived."""
        return self._terminate([managed])

    def stop_all(self) -> list[int]:
        """End every process started here, newest first; return ids that survived."""
        return self._terminate(list(reversed(self.processes)))

    def _terminate(self, targets: list[ManagedProcess]) -> list[int]:
        victims: dict[int, psutil.Process] = {}
        for managed in targets:
            for child in _descendants(managed.pid):
                self._remember([child.pid])
                victims[child.pid] = child
        for managed in targets:
            if managed.running():
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(managed.pid, signal.SIGTERM)
        for child in victims.values():
            with contextlib.suppress(psutil.NoSuchProcess):
                child.terminate()
        deadline = time.monotonic() + self.grace
        for managed in targets:
            try:
                managed.process.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(managed.pid, signal.SIGKILL)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    managed.process.wait(timeout=self.grace)
        _, remaining = psutil.wait_procs(
            list(victims.values()), timeout=max(0.1, deadline - time.monotonic())
        )
        for child in remaining:
            with contextlib.suppress(psutil.NoSuchProcess):
                child.kill()
        psutil.wait_procs(remaining, timeout=self.grace)
        for managed in targets:
            managed.flush_log(self.grace)
        survivors = live_processes(sorted({m.pid for m in targets} | set(victims)))
        if survivors:
            _LOG.error("processes %s survived SIGKILL", survivors)
        return survivors
