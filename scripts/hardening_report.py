"""Measure how the project takes hostile input: clean errors, tracebacks, hangs, memory, loss.

Runs a seeded corpus of hostile inputs (``scripts/_hostile_inputs.py``: mutations of valid
seeds, the classes issue 12 named, special files) through every decoder in-process and
every ``edgeprof`` command that reads outside input in its own process (time limit, address
space capped at 4 GiB, peak RSS measured), then runs 2 and 8 ``edgeprof store observe`` at
once and counts acknowledged writes that were lost. With ``--baseline-src DIR`` (a source
tree of another commit, e.g. ``git archive <commit> | tar -x -C DIR``) the commands and the
concurrency run again against that code in the same run, side by side.

Prints a table and writes ``reports/hardening.json``; docs/hardening.md quotes both.

    .venv/bin/python scripts/hardening_report.py [--quick] [--baseline-src DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import Any

import _bench_common as common
import _hostile_inputs as hostile
import _hostile_targets as targets

common.use_repo_imports()

OUTCOMES = ("ok", "clean_error", "traceback", "hang", "crash")
_ADDRESS_SPACE = 4 * 1024**3
# Run edgeprof from a given source tree: drop the editable install's finder, put the tree
# first on the path (an empty argument runs the installed code).
_BOOT = (
    "import sys\n"
    "src = sys.argv.pop(1)\n"
    "if src:\n"
    "    sys.meta_path[:] = [f for f in sys.meta_path\n"
    "                        if not type(f).__module__.startswith('__editable__')]\n"
    "    sys.path.insert(0, src)\n"
    "from edge_client.cli import main\n"
    "sys.argv[0] = 'edgeprof'\n"
    "main()\n"
)


class _HangError(Exception):
    """Raised by the watchdog when a decoder runs past its time."""


def _alarm(signum: int, frame: FrameType | None) -> None:
    del signum, frame
    raise _HangError


def _inputs(
    kind: targets.Kind, fixture: targets.Fixture, rng: random.Random, mutations: int
) -> list[tuple[str, bytes | str]]:
    """Return (label, bytes) for mutations and named cases, (label, special name) for files."""
    seeds = kind.seeds(fixture)
    out: list[tuple[str, bytes | str]] = [
        (f"mutation-{i}", hostile.mutate(kind.format, rng.choice(seeds), rng))
        for i in range(mutations)
    ]
    out += [(f"named:{n}", data) for n, data in targets.named_cases(kind).items()]
    if kind.from_file:
        out += [(f"special:{s}", s) for s in targets.SPECIAL_FILES]
    return out


def _place(kind: targets.Kind, fixture: targets.Fixture, value: bytes | str, folder: Path) -> Path:
    if isinstance(value, str):
        return targets.place_special(kind, value, fixture, folder)
    return kind.place(fixture, value, folder)


def run_decoders(
    fixture: targets.Fixture, rng: random.Random, mutations: int, timeout: int
) -> dict[str, Any]:
    """Run every decoder on its corpus in-process; count outcomes per kind."""
    from edge_client.errors import EdgeProfilerError

    signal.signal(signal.SIGALRM, _alarm)
    results: dict[str, Any] = {}
    for kind in targets.KINDS:
        if kind.decode is None:
            continue
        counts: Counter[str] = Counter()
        failures: list[str] = []
        for label, value in _inputs(kind, fixture, rng, mutations):
            with tempfile.TemporaryDirectory() as folder:
                path = _place(kind, fixture, value, Path(folder))
                signal.alarm(timeout)
                try:
                    kind.decode(fixture, path)
                    outcome = "ok"
                except EdgeProfilerError:
                    outcome = "clean_error"
                except _HangError:
                    outcome = "hang"
                except Exception as exc:  # what the report exists to count
                    outcome = "traceback"
                    failures.append(f"{label}: {type(exc).__name__}")
                finally:
                    signal.alarm(0)
            counts[outcome] += 1
        results[kind.name] = {"tried": sum(counts.values()), **counts, "failures": failures[:5]}
        common.progress(f"decoders: {kind.name} {dict(counts)}")
    return results


def _limit_child() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (_ADDRESS_SPACE, _ADDRESS_SPACE))


def run_command(argv: Sequence[str], source: str, timeout: int) -> tuple[str, int]:
    """Run ``edgeprof ARGV`` from ``source`` ('' = installed); return (outcome, peak RSS kB)."""
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    with tempfile.TemporaryFile() as err:
        child = subprocess.Popen(
            [sys.executable, "-c", _BOOT, source, *argv],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=err,
            env=env,
            preexec_fn=_limit_child,  # noqa: PLW1509  (single-threaded parent, rlimit only)
        )
        deadline = time.monotonic() + timeout
        while True:
            pid, status, usage = os.wait4(child.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                child.kill()
                _, status, usage = os.wait4(child.pid, 0)
                return "hang", usage.ru_maxrss
            time.sleep(0.02)
        child.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        text = err.read().decode("utf-8", "replace")
    if "Traceback (most recent call last)" in text:
        return "traceback", usage.ru_maxrss
    if child.returncode < 0:
        return "crash", usage.ru_maxrss
    return ("ok" if child.returncode == 0 else "clean_error"), usage.ru_maxrss


def run_commands(
    fixture: targets.Fixture, rng: random.Random, mutations: int, source: str, timeout: int
) -> dict[str, Any]:
    """Run every command on its corpus from ``source``; count outcomes per command."""
    results: dict[str, Any] = {}
    for kind in targets.KINDS:
        for index, build in enumerate(kind.commands):
            counts: Counter[str] = Counter()
            peak, failures = 0, []
            name = ""
            for label, value in _inputs(kind, fixture, rng, mutations):
                with tempfile.TemporaryDirectory() as folder:
                    argv = build(fixture, _place(kind, fixture, value, Path(folder)))
                    name = " ".join(a for a in argv[:2] if not a.startswith(("/", "-")))
                    outcome, rss = run_command(argv, source, timeout)
                counts[outcome] += 1
                peak = max(peak, rss)
                if outcome not in ("ok", "clean_error"):
                    failures.append(f"{label}: {outcome}")
            key = f"{kind.name} -> edgeprof {name}#{index}"
            results[key] = {
                "tried": sum(counts.values()),
                **counts,
                "peak_rss_mb": round(peak / 1024, 1),
                "failures": failures[:8],
            }
            common.progress(f"commands ({source or 'this tree'}): {key} {dict(counts)}")
    results.update(_sign_options(fixture, source, timeout))
    return results


def _sign_options(fixture: targets.Fixture, source: str, timeout: int) -> dict[str, Any]:
    counts: Counter[str] = Counter()
    failures = []
    peak = 0
    for label, options in targets.SIGN_OPTIONS:
        with tempfile.TemporaryDirectory() as folder:
            argv = ["policy", "sign", str(fixture.root / "policy.toml"), "--key"]
            argv += [str(fixture.root / "signing.key"), "--out", f"{folder}/b.json", *options]
            outcome, rss = run_command(argv, source, timeout)
        counts[outcome] += 1
        peak = max(peak, rss)
        if outcome not in ("ok", "clean_error"):
            failures.append(f"{label}: {outcome}")
    key = "sign options -> edgeprof policy sign"
    return {
        key: {
            "tried": sum(counts.values()),
            **counts,
            "peak_rss_mb": round(peak / 1024, 1),
            "failures": failures,
        }
    }


def run_concurrency(writers: int, source: str, timeout: int) -> dict[str, Any]:
    """Run WRITERS `store observe` of a 10-word text at once; count acknowledged and kept."""
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        text = root / "words.txt"
        text.write_text("one two three four five six seven eight nine ten", encoding="utf-8")
        argv = ["store", "--dir", str(root / "data"), "observe", str(text)]
        env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
        runs = [
            subprocess.Popen(
                [sys.executable, "-c", _BOOT, source, *argv],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                env=env,
            )
            for _ in range(writers)
        ]
        acknowledged = sum(1 for run in runs if run.wait(timeout=timeout) == 0)
        from edge_client.device import Device

        words = Device(root / "data", read_only=True).profiler.counts.words
    kept = round(words / 10)
    return {
        "writers": writers,
        "acknowledged": acknowledged,
        "kept": kept,
        "lost": max(acknowledged - kept, 0),
    }


def _totals(section: dict[str, Any]) -> dict[str, Any]:
    total: Counter[str] = Counter(dict.fromkeys(("tried", *OUTCOMES), 0))
    for row in section.values():
        total.update({k: row.get(k, 0) for k in ("tried", *OUTCOMES)})
    peak = max((row.get("peak_rss_mb", 0.0) for row in section.values()), default=0.0)
    return {**total, "peak_rss_mb": peak}


def _row(label: str, row: dict[str, Any]) -> list[object]:
    return [
        label,
        row.get("tried", 0),
        row.get("clean_error", 0),
        row.get("ok", 0),
        row.get("traceback", 0),
        row.get("hang", 0),
        row.get("crash", 0),
        row.get("peak_rss_mb", ""),
    ]


def markdown(report: dict[str, Any]) -> str:
    """Return the docs/hardening.md tables of a report (this tree beside the baseline)."""
    names = [n for n in ("this_tree", "baseline") if n in report]
    lines = [
        "| input kind → entry | tried | "
        + " | ".join(
            f"{n.replace('_', ' ')}: clean errors / accepted / tracebacks / hangs / peak RSS MB"
            for n in names
        )
        + " |",
        "|---|---:|" + "---|" * len(names),
    ]

    def cells(row: dict[str, Any]) -> str:
        return (
            f"{row.get('clean_error', 0)} / {row.get('ok', 0)} / {row.get('traceback', 0)}"
            f" / {row.get('hang', 0)} / {row.get('peak_rss_mb', 0):g}"
        )

    commands = report[names[0]]["commands"]
    for key in commands:
        label = key.replace("#", " ").split(" ")
        entry = " ".join(label[:-1]) if label[-1].isdigit() else key
        lines.append(
            f"| {entry} | {commands[key]['tried']} | "
            + " | ".join(cells(report[n]["commands"][key]) for n in names)
            + " |"
        )
    totals = [_totals(report[n]["commands"]) for n in names]
    lines.append(
        f"| **all commands** | {totals[0]['tried']} | "
        + " | ".join(f"**{cells(t)}**" for t in totals)
        + " |"
    )
    decoders = _totals(report["decoders"])
    lines += [
        "",
        "| decoders (in-process, this tree) | tried | clean errors | accepted | "
        "tracebacks | hangs |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for kind, row in report["decoders"].items():
        lines.append(
            f"| {kind} | {row['tried']} | {row.get('clean_error', 0)} | "
            f"{row.get('ok', 0)} | {row.get('traceback', 0)} | {row.get('hang', 0)} |"
        )
    lines.append(
        f"| **all decoders** | {decoders['tried']} | {decoders['clean_error']} | "
        f"{decoders['ok']} | {decoders['traceback']} | {decoders['hang']} |"
    )
    lines += [
        "",
        "| code | writers | acknowledged writes | kept | lost |",
        "|---|---:|---:|---:|---:|",
    ]
    for n in names:
        for c in report[n]["concurrency"]:
            lines.append(
                f"| {n.replace('_', ' ')} | {c['writers']} | {c['acknowledged']} | "
                f"{c['kept']} | {c['lost']} |"
            )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the measurement; print the table; write the JSON report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=common.REPO_ROOT / "reports/hardening.json")
    parser.add_argument("--quick", action="store_true", help="A few inputs per kind (smoke).")
    parser.add_argument("--mutations", type=int, default=40, help="Mutations per decoder.")
    parser.add_argument("--command-mutations", type=int, default=6, help="Per command.")
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--timeout", type=int, default=60, help="Seconds before a hang.")
    parser.add_argument("--baseline-src", default="", help="Source tree to compare against.")
    parser.add_argument(
        "--markdown", type=Path, help="Print the docs tables of this report JSON and stop."
    )
    args = parser.parse_args(argv)
    if args.markdown is not None:
        print(markdown(json.loads(args.markdown.read_text(encoding="utf-8"))))
        return 0
    if args.quick:
        args.mutations, args.command_mutations = 2, 0
    started = time.time()
    report: dict[str, Any] = {
        "script": "hardening_report.py",
        "seed": args.seed,
        "environment": common.environment(),
        "quick": args.quick,
    }
    with tempfile.TemporaryDirectory() as folder:
        fixture = targets.Fixture.build(Path(folder) / "fixture")
        report["decoders"] = run_decoders(
            fixture, random.Random(args.seed), args.mutations, args.timeout
        )
        sources = {"this_tree": ""}
        if args.baseline_src:
            sources["baseline"] = str(Path(args.baseline_src).resolve())
        for name, source in sources.items():
            commands = (
                {}
                if args.quick
                else run_commands(
                    fixture, random.Random(args.seed), args.command_mutations, source, args.timeout
                )
            )
            writers = (2,) if args.quick else (2, 8)
            report[name] = {
                "commands": commands,
                "concurrency": [run_concurrency(w, source, 300) for w in writers],
            }
    report["seconds"] = round(time.time() - started, 1)
    common.write_json(args.out, report)
    headers = [
        "input kind / entry",
        "tried",
        "clean errors",
        "accepted",
        "tracebacks",
        "hangs",
        "crashes",
        "peak RSS MB",
    ]
    rows = [_row(f"decoder {k}", v) for k, v in report["decoders"].items()]
    rows.append(_row("ALL DECODERS", _totals(report["decoders"])))
    for name in sources:
        rows += [_row(f"[{name}] {k}", v) for k, v in report[name]["commands"].items()]
        if report[name]["commands"]:
            rows.append(_row(f"[{name}] ALL COMMANDS", _totals(report[name]["commands"])))
    print(common.format_table(headers, rows))
    print()
    print(
        common.format_table(
            ["code", "writers", "acknowledged", "kept", "lost"],
            [
                [name, c["writers"], c["acknowledged"], c["kept"], c["lost"]]
                for name in sources
                for c in report[name]["concurrency"]
            ],
        )
    )
    print(f"\nwrote {args.out} ({report['seconds']} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
