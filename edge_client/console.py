"""What ``edgeprof`` prints where, and how it exits: one convention for every command.

* **stdout** carries results only (profiles, selections, reports, file paths written,
  per-round progress of a simulation); after an error nothing more is printed there.
* **stderr** carries diagnostics: ``error: ...`` lines, warnings, and library log lines
  only when asked for with ``-v``/``--verbose`` (``-vv`` for debug detail).
* **Exit status** (:class:`ExitCode`): 0 success; 1 some input was bad or the work failed
  (a bad file or line, a refused bundle, a failed run), the rest having been done; 2 usage
  or setup (a wrong option, a missing extra, a store or runtime that cannot start).

The verbosity is kept on the click context of the running command (:func:`verbosity`),
not in a global.
"""

from __future__ import annotations

import enum
import logging
import sys
from collections.abc import Callable
from typing import NoReturn, TypeVar

import click

from edge_client.errors import (
    EdgeProfilerError,
    MissingExtraError,
    ModelError,
    RuntimeUnavailableError,
    TaxonomyError,
)

__all__ = [
    "ExitCode",
    "Verbosity",
    "exit_code_for",
    "fail",
    "verbosity",
    "verbosity_options",
]

F = TypeVar("F", bound=Callable[..., object])
_META_KEY = "edgeprof.verbosity"
_FORMAT = "%(levelname)s %(name)s: %(message)s"
_HANDLER_NAME = "edgeprof-console"


class ExitCode(enum.IntEnum):
    """Exit status of every ``edgeprof`` command."""

    OK = 0
    """Everything asked for was done."""
    INPUT = 1
    """Some input was bad or the work failed; the message says which and where."""
    USAGE = 2
    """Wrong usage or setup: an option, a missing extra, a store or runtime that cannot start."""


class Verbosity(enum.IntEnum):
    """How much ``edgeprof`` says besides its results."""

    QUIET = 0
    """Results and errors only: no progress, no warnings."""
    NORMAL = 1
    """Results, progress of long work, warnings and errors (the default)."""
    VERBOSE = 2
    """Also library and runtime log lines (INFO); ``simulate`` streams Flower's log."""
    DEBUG = 3
    """Also debug detail."""

    @property
    def log_level(self) -> int:
        """Return the logging level that matches."""
        return {
            Verbosity.QUIET: logging.ERROR,
            Verbosity.NORMAL: logging.WARNING,
            Verbosity.VERBOSE: logging.INFO,
            Verbosity.DEBUG: logging.DEBUG,
        }[self]


def verbosity() -> Verbosity:
    """Return the verbosity asked for on the command line (``NORMAL`` outside a command)."""
    ctx = click.get_current_context(silent=True)
    if ctx is None:
        return Verbosity.NORMAL
    return Verbosity(ctx.find_root().meta.get(_META_KEY, Verbosity.NORMAL))


def _configure_logging(level: Verbosity) -> None:
    """Route log records to stderr at the level asked for (one handler, replaced on change)."""
    root = logging.getLogger()
    for handler in [h for h in root.handlers if h.get_name() == _HANDLER_NAME]:
        root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(logging.Formatter(_FORMAT))
    root.addHandler(handler)
    root.setLevel(level.log_level)
    logging.captureWarnings(level >= Verbosity.VERBOSE)


def _store(ctx: click.Context, param: click.Parameter, value: object) -> None:
    """Callback of ``-v``/``-q``: raise or lower the command's verbosity."""
    meta = ctx.find_root().meta
    current = Verbosity(meta.get(_META_KEY, Verbosity.NORMAL))
    if param.name == "quiet" and value:
        current = Verbosity.QUIET
    elif param.name == "verbose" and isinstance(value, int) and value:
        current = Verbosity(min(Verbosity.DEBUG, max(current, Verbosity.NORMAL + value)))
    meta[_META_KEY] = current
    _configure_logging(current)


def verbosity_options(function: F) -> F:
    """Add ``-v/--verbose`` (repeatable) and ``-q/--quiet`` to a click command or group."""
    verbose = click.option(
        "-v",
        "--verbose",
        count=True,
        expose_value=False,
        callback=_store,
        help="Also print library and runtime log lines on stderr (-vv: debug detail).",
    )
    quiet = click.option(
        "-q",
        "--quiet",
        is_flag=True,
        expose_value=False,
        callback=_store,
        help="Print results and errors only (no progress, no warnings).",
    )
    return verbose(quiet(function))


def exit_code_for(error: EdgeProfilerError) -> ExitCode:
    """Return the exit status an error ends a command with.

    Parameters
    ----------
    error : EdgeProfilerError
        The error.

    Returns
    -------
    ExitCode
        ``USAGE`` for setup problems (missing extra, runtime, broken model or taxonomy
        files of the installation), ``INPUT`` for everything else.
    """
    setup = (MissingExtraError, RuntimeUnavailableError, ModelError, TaxonomyError)
    return ExitCode.USAGE if isinstance(error, setup) else ExitCode.INPUT


def fail(message: str, code: ExitCode = ExitCode.INPUT) -> NoReturn:
    """Print ``error: <message>`` on stderr and exit with ``code``.

    Parameters
    ----------
    message : str
        What went wrong and how to fix it.
    code : ExitCode, default ExitCode.INPUT
        The exit status.
    """
    click.echo(f"error: {message}", err=True)
    sys.exit(int(code))
