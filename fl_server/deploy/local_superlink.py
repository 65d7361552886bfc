"""Find and end the local SuperLink that Flower's ``flwr run`` starts for an ``FLWR_HOME``.

``flwr run .`` against Flower's default ``local`` connection starts a detached
``flower-superlink --simulation`` (with a ``flower-superexec`` child) the first time it
runs, logging to ``$FLWR_HOME/local-superlink/superlink.log``, and leaves it running for the
next ``flwr run``. Flower 1.4x has no command to stop it. :func:`stop_local_superlink`
finds exactly that process (by its ``--log-file`` under the given ``FLWR_HOME``), ends it
and its descendants (``SIGTERM``, then ``SIGKILL`` after a grace period) and says what it
ended. Processes of other homes, users or programs are never touched.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path

import psutil

__all__ = [
    "LocalSuperLinkStop",
    "default_flwr_home",
    "find_local_superlinks",
    "stop_local_superlink",
]

_PROGRAM = "flower-superlink"


def default_flwr_home() -> Path:
    """Return ``$FLWR_HOME``, or ``~/.flwr`` when it is unset, as Flower does."""
    configured = os.environ.get("FLWR_HOME")
    return Path(configured) if configured else Path.home() / ".flwr"


@dataclass(frozen=True)
class LocalSuperLinkStop:
    """What :func:`stop_local_superlink` did.

    Attributes
    ----------
    flwr_home
        The Flower home looked at.
    superlinks
        Process ids of the local SuperLinks found for it.
    helpers
        Process ids of their descendants (SuperExec, simulation, Ray) ended with them.
    survivors
        Ids still running afterwards (empty on success).
    """

    flwr_home: Path
    superlinks: tuple[int, ...]
    helpers: tuple[int, ...]
    survivors: tuple[int, ...]


def _log_file(cmdline: list[str]) -> Path | None:
    if not any(Path(part).name == _PROGRAM for part in cmdline[:2]):
        return None
    for position, part in enumerate(cmdline):
        if part == "--log-file" and position + 1 < len(cmdline):
            return Path(cmdline[position + 1])
        if part.startswith("--log-file="):
            return Path(part.split("=", 1)[1])
    return None


def find_local_superlinks(flwr_home: Path) -> list[psutil.Process]:
    """Return this user's running local SuperLinks of ``flwr_home``.

    Parameters
    ----------
    flwr_home
        The ``FLWR_HOME`` whose ``local-superlink/superlink.log`` the process writes.

    Returns
    -------
    list[psutil.Process]
        The processes (usually zero or one).
    """
    wanted = (flwr_home / "local-superlink" / "superlink.log").resolve()
    found = []
    for process in psutil.process_iter(["cmdline", "uids"]):
        with contextlib.suppress(psutil.Error):
            if process.info["uids"] is not None and process.info["uids"].real != os.getuid():
                continue
            log = _log_file(list(process.info["cmdline"] or []))
            if log is not None and log.resolve() == wanted:
                found.append(process)
    return found


def stop_local_superlink(flwr_home: Path, *, grace: float = 10.0) -> LocalSuperLinkStop:
    """End the local SuperLink of ``flwr_home`` and every process it started.

    Parameters
    ----------
    flwr_home
        The Flower home (see :func:`default_flwr_home`).
    grace
        Seconds between ``SIGTERM`` and ``SIGKILL``.

    Returns
    -------
    LocalSuperLinkStop
        What was found and ended.
    """
    links = find_local_superlinks(flwr_home)
    helpers: dict[int, psutil.Process] = {}
    for link in links:
        with contextlib.suppress(psutil.Error):
            helpers.update({child.pid: child for child in link.children(recursive=True)})
    everyone = [*links, *helpers.values()]
    for process in everyone:
        with contextlib.suppress(psutil.Error):
            process.terminate()
    _, alive = psutil.wait_procs(everyone, timeout=grace)
    for process in alive:
        with contextlib.suppress(psutil.Error):
            process.kill()
    _, alive = psutil.wait_procs(alive, timeout=grace)
    return LocalSuperLinkStop(
        flwr_home=flwr_home,
        superlinks=tuple(p.pid for p in links),
        helpers=tuple(sorted(helpers)),
        survivors=tuple(p.pid for p in alive),
    )
