"""Shared helpers of the benchmark scripts: paths, single-core pinning, targets, tables, JSON.

Nothing here imports NumPy (or anything that does) at module level, so a script can pin
itself to one core and set the thread variables *before* NumPy starts its thread pools.
Used by ``scripts/bench_speed.py`` and ``scripts/bench_accuracy.py``; not a public API.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

__all__ = [
    "DATA_FILES",
    "REPO_ROOT",
    "THREAD_VARIABLES",
    "BenchError",
    "Direction",
    "Target",
    "data_missing_reason",
    "environment",
    "format_table",
    "median",
    "percentile",
    "pin_one_core",
    "progress",
    "single_thread_env",
    "use_repo_imports",
    "write_json",
    "write_skipped",
]

REPO_ROOT = Path(__file__).resolve().parent.parent
"""The repository root (``scripts/`` is one level below it)."""

THREAD_VARIABLES: tuple[str, ...] = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "NUMEXPR_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "TF_NUM_INTRAOP_THREADS",
    "TF_NUM_INTEROP_THREADS",
)
"""Environment variables that cap the thread pools of NumPy's BLAS and TensorFlow."""

DATA_FILES: tuple[str, ...] = (
    "mbti/users.jsonl",
    "20news/train.jsonl",
    "20news/test.jsonl",
    "reddit-top2013/train.jsonl",
    "reddit-top2013/test.jsonl",
    "reddit-top2013/labels.tsv",
    "agnews-test/train.jsonl",
    "agnews-test/test.jsonl",
)
"""Corpus files (relative to the data folder) the benchmarks read."""


class BenchError(RuntimeError):
    """A benchmark cannot run (for example, the models have not been built)."""


class Direction(Enum):
    """Whether a measured value must stay at most or at least its threshold."""

    AT_MOST = "<="
    AT_LEAST = ">="


@dataclass(frozen=True)
class Target:
    """One acceptance target of the issue.

    Attributes
    ----------
    name : str
        Key of the target in the JSON report.
    threshold : float
        The limit.
    direction : Direction
        ``AT_MOST`` (smaller is better) or ``AT_LEAST`` (larger is better).
    unit : str
        Unit of the value and the threshold, for humans (``"ms"``, ``"MB"``, ``""``).
    """

    name: str
    threshold: float
    direction: Direction
    unit: str

    def passed(self, value: float) -> bool:
        """Whether ``value`` meets the target."""
        if self.direction is Direction.AT_MOST:
            return value <= self.threshold
        return value >= self.threshold

    def report(self, value: float) -> dict[str, Any]:
        """Return the JSON entry of this target: value, threshold, direction, unit, pass flag."""
        return {
            "value": value,
            "threshold": self.threshold,
            "direction": self.direction.value,
            "unit": self.unit,
            "passed": self.passed(value),
        }


def use_repo_imports() -> None:
    """Make ``edge_client`` and ``models`` importable when a script runs as a file.

    ``python scripts/x.py`` puts ``scripts/`` (not the repository root) on ``sys.path``.
    """
    root = str(REPO_ROOT)
    if root not in sys.path:
        sys.path.insert(0, root)


def single_thread_env(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """Copy ``base`` (default: ``os.environ``) with every thread variable set to 1.

    The repository root is prepended to ``PYTHONPATH`` so subprocesses import the same code.
    """
    env = dict(os.environ if base is None else base)
    for name in THREAD_VARIABLES:
        env[name] = "1"
    previous = env.get("PYTHONPATH", "")
    env["PYTHONPATH"] = str(REPO_ROOT) + (os.pathsep + previous if previous else "")
    return env


def pin_one_core(cpu: int | None = None) -> int | None:
    """Pin this process (and its future children) to one CPU and cap thread pools at 1.

    Call before importing NumPy: the thread variables are read when it loads.

    Parameters
    ----------
    cpu : int, optional
        The CPU to pin to (default: the lowest one this process may use).

    Returns
    -------
    int or None
        The CPU pinned to, or ``None`` where the platform cannot pin (macOS, Windows).

    Raises
    ------
    BenchError
        If ``cpu`` is not one this process may run on.
    """
    os.environ.update(single_thread_env())
    if not hasattr(os, "sched_setaffinity"):
        return None
    allowed = os.sched_getaffinity(0)
    chosen = min(allowed) if cpu is None else cpu
    if chosen not in allowed:
        raise BenchError(f"--cpu {chosen}: not in this process's CPUs {sorted(allowed)}")
    os.sched_setaffinity(0, {chosen})
    return chosen


def data_missing_reason(data_dir: Path) -> str | None:
    """Why the shared corpora cannot be used, or ``None`` when they are all present."""
    missing = [name for name in DATA_FILES if not (data_dir / name).is_file()]
    if not missing:
        return None
    return (
        f"shared data not found at {data_dir} (missing {', '.join(missing)}); "
        "set EDGEPROF_DATA or place the corpora in ../shared/data"
    )


def progress(message: str) -> None:
    """Print a timestamped progress line on stderr."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def percentile(values: Sequence[float], q: float) -> float:
    """Return the ``q``-th percentile (0-100) of ``values``, interpolating between ranks.

    Raises
    ------
    BenchError
        If ``values`` is empty or ``q`` is outside [0, 100].
    """
    if not values:
        raise BenchError("percentile of no values")
    if not 0.0 <= q <= 100.0:
        raise BenchError(f"percentile q must be in [0, 100], got {q}")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100.0
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def median(values: Sequence[float]) -> float:
    """Return the median of ``values`` (raises :class:`BenchError` when empty)."""
    if not values:
        raise BenchError("median of no values")
    return float(statistics.median(values))


def environment() -> dict[str, Any]:
    """Where the benchmark ran: Python, platform, CPU, cores, time (no user or host names)."""
    cpu_model = platform.processor()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu_model": cpu_model,
        "cpu_count": os.cpu_count(),
        # Other work on the machine skews timings; the load average says how busy it was.
        "load_average_1m": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None,
        "utc_time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def format_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """Format a plain-text table: first column left-aligned, the others right-aligned."""
    cells = [[str(h) for h in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]

    def line(row: Sequence[str]) -> str:
        parts = [
            cell.ljust(widths[i]) if i == 0 else cell.rjust(widths[i]) for i, cell in enumerate(row)
        ]
        return "  ".join(parts).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(cells[0]), rule, *(line(row) for row in cells[1:])])


def write_json(path: Path, payload: Mapping[str, Any]) -> None:
    """Write ``payload`` as indented JSON, creating the parent folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")


def pinned_arguments(
    description: str, default_out: Path, argv: Sequence[str] | None
) -> tuple[argparse.Namespace, int | None]:
    """Parse ``--quick``, ``--out`` and ``--cpu``, then pin to one core before NumPy loads.

    The repository root is on ``sys.path`` afterwards, so the script may import its modules.

    Returns
    -------
    args : argparse.Namespace
        ``quick``, ``out`` and ``cpu``.
    cpu : int or None
        The CPU pinned to (see :func:`pin_one_core`).
    """
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="20 texts, 2 repeats (smoke run)")
    parser.add_argument("--out", type=Path, default=default_out, help="JSON report path")
    parser.add_argument("--cpu", type=int, default=None, help="CPU to pin to (default: lowest)")
    args = parser.parse_args(argv)
    # Pin and cap threads before anything imports NumPy; the repository's own modules are
    # imported only then (and once the repository root is on sys.path).
    cpu = pin_one_core(args.cpu)
    use_repo_imports()
    return args, cpu


def publish(path: Path, report: Mapping[str, Any], text: str) -> int:
    """Print ``text`` (the report's tables), write ``report`` as JSON, say where; exit code 0."""
    print(text)
    write_json(path, report)
    print(f"\nwrote {path}")
    return 0


def write_skipped(path: Path, script: str, reason: str) -> int:
    """Report a skipped benchmark on stdout and in its JSON file; return exit code 0."""
    print(f"skipped: {reason}")
    write_json(path, {"script": script, "skipped": True, "reason": reason})
    return 0


def quiet_library_logs() -> None:
    """Silence Flower's per-round INFO lines and the project's own below WARNING.

    Results go to stdout and progress to stderr; library log lines would bury both.
    Flower's logger sets itself to DEBUG when first imported, so it is imported first.
    """
    import logging

    import flwr.supercore.logger  # noqa: F401  (configures Flower's logger on import)

    logging.getLogger("flwr").setLevel(logging.ERROR)
    for name in ("fl_server", "edge_client"):
        logging.getLogger(name).setLevel(logging.WARNING)
