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
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import psutil

from fl_server.deploy.errors import LaunchError
from fl_server.deploy.files import FILE_MODE

__all__ = ["ManagedProcess", "Supervisor", "live_processes"]

_LOG = logging.getLogger("fl_server.deploy")


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

    @property
    def pid(self) -> int:
        """Return the process id (also its process group id)."""
        return self.process.pid

    def running(self) -> bool:
        """Return whether the process has not exited yet."""
        return self.process.poll() is None

    def log_tail(self, lines: int = 20) -> str:
        """Return the last ``lines`` lines of the process's log (for error reports)."""
        try:
            text = self.log.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


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
        Environment of every process.
    grace
        Seconds to wait after ``SIGTERM`` before ``SIGKILL``.
    """

    def __init__(self, log_dir: Path, env: Mapping[str, str], *, grace: float = 5.0) -> None:
        self.log_dir = log_dir
        self.env = dict(env)
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
        descriptor = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, FILE_MODE)
        try:
            process = subprocess.Popen(
                list(argv),
                stdin=subprocess.DEVNULL,
                stdout=descriptor,
                stderr=subprocess.STDOUT,
                env={**self.env, **(env or {})},
                cwd=cwd,
                start_new_session=True,
            )
        except OSError as exc:
            raise LaunchError(f"{name}: cannot start {argv[0]} ({exc.strerror})") from None
        finally:
            os.close(descriptor)
        managed = ManagedProcess(name, process, log)
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
        survivors = live_processes(sorted({m.pid for m in targets} | set(victims)))
        if survivors:
            _LOG.error("processes %s survived SIGKILL", survivors)
        return survivors
