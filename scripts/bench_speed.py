"""Speed, cold start and peak memory of the edge client, side by side with empath and VADER.

What it measures, on one pinned core, over real texts (the first 300 words of every
held-out MBTI user of ``models.data.split_mbti``), with the targets of the issue:

- **Per text**: features plus both models (``EdgeProfiler.reset/observe/profile``),
  features only (``extract``) and models only (both ``predict`` calls); median, p90 and
  words per second. Target: median <= 0.30 ms for features plus both models, and at least
  10x faster than each baseline. The featurizer before issue 13
  (``scripts/_featurizer_reference.py``) runs in the same run, alone and inside the same
  profile, so the speed-up of the new one is measured side by side too. Every method
  (ours, its parts, each baseline) runs in its own fresh process, warmed on other users'
  texts only, so the headline figure is for text the device has not seen before; a second
  pass over the same texts (tokens cached) is reported too. Each text's time is its
  minimum over several such processes (other load on the machine only slows runs down).
- **Cold start**: import plus model loading in a fresh Python process, median of repeats,
  with bytecode compiled once beforehand (into a temporary ``PYTHONPYCACHEPREFIX``, as an
  installed package has it, whatever ``PYTHONDONTWRITEBYTECODE`` says). Target: <= 150 ms.
  The time to the first profile is reported as well.
- **Peak RSS** of a fresh process that profiles every text. Target: <= 60 MB (10^6 bytes).
- **Side by side, same run, same texts**: ``vaderSentiment`` ``polarity_scores`` and
  ``empath`` ``analyze(normalize=True)`` (both MIT), which a developer might otherwise run on
  a device for text analysis; ratios are baseline / ours (above 1: ours is faster/smaller).

Run from the repository root::

    python scripts/bench_speed.py [--quick] [--out PATH] [--cpu N]

``--quick`` uses 20 texts and 2 subprocess repeats (a smoke run; its figures are noisy).
The JSON report (default ``reports/bench_speed.json``) holds every figure, the targets and
a pass flag per target. Without the shared corpora it prints ``skipped: <reason>``, writes a
JSON saying so and exits 0. Needs the ``dev`` extra (empath, vaderSentiment).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import _bench_common as common

DEFAULT_OUT = common.REPO_ROOT / "reports" / "bench_speed.json"
TEXT_WORDS = 300
WARMUP_TEXTS = 10
QUICK_TEXTS = 20
QUICK_REPEATS = 2
FULL_REPEATS = 5
MB = 1_000_000

TARGET_MEDIAN = common.Target("median_ms_features_and_models", 0.30, common.Direction.AT_MOST, "ms")
TARGET_VADER = common.Target(
    "times_faster_than_vaderSentiment", 10.0, common.Direction.AT_LEAST, "x"
)
TARGET_EMPATH = common.Target("times_faster_than_empath", 10.0, common.Direction.AT_LEAST, "x")
TARGET_COLD = common.Target("cold_start_ms", 150.0, common.Direction.AT_MOST, "ms")
TARGET_RSS = common.Target("peak_rss_mb", 60.0, common.Direction.AT_MOST, "MB")


@dataclass(frozen=True)
class Engine:
    """How a fresh subprocess imports, constructs and runs one text-analysis method.

    Attributes
    ----------
    name : str
        Key in the report.
    import_code : str
        Statements that import the library.
    construct_code : str
        Statements that build what ``call_code`` uses (may use the list ``texts``).
    call_code : str
        One-line statement analysing ``text``.
    """

    name: str
    import_code: str
    construct_code: str
    call_code: str


OURS = Engine(
    "edge_client",
    "from edge_client.policy import Purpose\nfrom edge_client.profiler import EdgeProfiler",
    "engine = EdgeProfiler(consent=[Purpose.PROFILING])",
    "engine.reset(); engine.observe(text); engine.profile()",
)
FEATURES = Engine(
    "edge_client_features_only",
    "from edge_client.text.features import extract",
    "pass",
    "extract(text)",
)
_REFERENCE = (
    "import sys\nsys.path.insert(0, 'scripts')\nfrom _featurizer_reference import extract_reference"
)
FEATURES_BEFORE = Engine(
    "edge_client_features_only_before",
    _REFERENCE,
    "pass",
    "extract_reference(text)",
)
"""The featurizer before issue 13, alone."""
OURS_BEFORE = Engine(
    "edge_client_features_before_and_models",
    _REFERENCE + "\n" + OURS.import_code,
    OURS.construct_code,
    "engine.reset(); engine.observe_counts(extract_reference(text)); engine.profile()",
)
"""A whole profile with the featurizer before issue 13 (everything else current)."""
MODELS = Engine(
    "edge_client_models_only",
    "from edge_client.models import ModelName, load_model\n"
    "from edge_client.text.features import extract",
    "style, interests = load_model(ModelName.STYLE), load_model(ModelName.INTERESTS)\n"
    "counts = {t: extract(t) for t in texts}",
    "style.predict([counts[text]]); interests.predict([counts[text]])",
)
VADER = Engine(
    "vaderSentiment",
    "from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer",
    "engine = SentimentIntensityAnalyzer()",
    "engine.polarity_scores(text)",
)
EMPATH = Engine(
    "empath",
    "from empath import Empath",
    "engine = Empath()",
    "engine.analyze(text, normalize=True)",
)
BARE = Engine("python_only", "pass", "pass", "pass")
"""Context: the interpreter alone (its memory is part of every other figure)."""

# Child programs read JSON from stdin and print one JSON line. Peak RSS is read from
# /proc/self/status (VmHWM): on Linux, ru_maxrss survives exec and would report the parent's.
_PEAK_RSS = """\
def peak_rss_bytes():
    try:
        with open("/proc/self/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    import resource
    scale = 1 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale
def rss_parts():
    # Resident memory now, split: anonymous (the process's own heap and arrays) and
    # file-backed (shared libraries and mapped model files, as the kernel maps them).
    parts = {{}}
    try:
        with open("/proc/self/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith(("RssAnon:", "RssFile:")):
                    parts[line[3:7].lower()] = int(line.split()[1]) * 1024
    except OSError:
        pass
    return parts
"""

_COLD_CHILD = (
    """\
import json, sys, time
texts = json.loads(sys.stdin.read())["texts"]
t0 = time.perf_counter()
{import_code}
t1 = time.perf_counter()
{construct_code}
t2 = time.perf_counter()
def run(text):
    {call_code}
run(texts[0])
t3 = time.perf_counter()
for text in texts[1:]:
    run(text)
"""
    + _PEAK_RSS
    + """\
print(json.dumps({{"import_s": t1 - t0, "load_s": t2 - t1, "first_text_s": t3 - t2,
                  "peak_rss_bytes": peak_rss_bytes(), "rss_parts": rss_parts()}}))
"""
)

_TIMING_CHILD = """\
import gc, json, sys, time
payload = json.loads(sys.stdin.read())
texts = payload["texts"] + payload["warmup"]
{import_code}
{construct_code}
def run(text):
    {call_code}
def timed(items):
    gc.collect()
    clock = time.perf_counter_ns
    out = []
    for text in items:
        start = clock()
        run(text)
        out.append(clock() - start)
    return out
timed(payload["warmup"])
first = timed(payload["texts"])
second = timed(payload["texts"])
print(json.dumps({{"first_ns": first, "second_ns": second}}))
"""


def summarize(seconds: Sequence[float], words: Sequence[int]) -> dict[str, float]:
    """Median, p90 and mean milliseconds per text, and words per second over all texts."""
    return {
        "texts": len(seconds),
        "median_ms": round(common.median(seconds) * 1e3, 4),
        "p90_ms": round(common.percentile(seconds, 90) * 1e3, 4),
        "mean_ms": round(sum(seconds) / len(seconds) * 1e3, 4),
        "words_per_second": round(sum(words) / sum(seconds), 1),
    }


def child_env(pycache: Path) -> dict[str, str]:
    """The environment of every child: one thread, and bytecode cached under ``pycache``.

    An installed package has its bytecode compiled (pip does it at install time); an
    inherited ``PYTHONDONTWRITEBYTECODE`` would make every child compile every module from
    source again, which is not what a device does at start. The cache lives in a temporary
    folder (``PYTHONPYCACHEPREFIX``), so the repository and site-packages stay untouched.
    """
    env = common.single_thread_env()
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(pycache)
    return env


def run_child(
    template: str, engine: Engine, payload: dict[str, Any], *, pycache: Path
) -> dict[str, Any]:
    """Run ``engine`` in a fresh interpreter (pinned, one thread) on ``payload``; its JSON.

    Raises
    ------
    common.BenchError
        If the subprocess fails (its stderr tail is included; it never holds user text).
    """
    code = template.format(
        import_code=engine.import_code,
        construct_code=engine.construct_code,
        call_code=engine.call_code,
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        cwd=common.REPO_ROOT,
        env=child_env(pycache),
        check=False,
    )
    if done.returncode != 0:
        tail = done.stderr.strip().splitlines()[-3:]
        raise common.BenchError(f"{engine.name} subprocess failed: {' | '.join(tail)}")
    raw: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return raw


def per_text(
    engines: Sequence[Engine],
    texts: Sequence[str],
    warmup: Sequence[str],
    repeats: int,
    *,
    pycache: Path,
) -> dict[str, dict[str, Any]]:
    """Per-text timings of each engine: first sight, then a second pass, in fresh processes.

    Each of ``repeats`` fresh processes per engine is warmed on ``warmup`` (other users'
    texts) only, so every method starts the measured texts from the same state. The
    processes run round-robin (every engine once, then again), so a change of load on a
    shared machine touches every engine alike and the ratios stay fair. A text's time is its
    minimum over an engine's processes: other work can only slow a run down, so the minimum
    is the least disturbed measurement of that text.
    """
    words = [len(t.split()) for t in texts]
    payload = {"texts": list(texts), "warmup": list(warmup)}
    runs: dict[str, list[dict[str, Any]]] = {engine.name: [] for engine in engines}
    failed: dict[str, str] = {}
    for repeat in range(repeats):
        common.progress(
            f"timing round {repeat + 1} of {repeats}: {len(engines)} methods, {len(texts)} texts"
        )
        for engine in engines:
            if engine.name in failed:
                continue
            try:
                runs[engine.name].append(run_child(_TIMING_CHILD, engine, payload, pycache=pycache))
            except common.BenchError as exc:
                failed[engine.name] = str(exc)

    def fastest(name: str, key: str) -> list[float]:
        return [min(times) / 1e9 for times in zip(*(r[key] for r in runs[name]), strict=True)]

    out: dict[str, dict[str, Any]] = {}
    for engine in engines:
        if engine.name in failed:
            out[engine.name] = {"available": False, "reason": failed[engine.name]}
            continue
        out[engine.name] = {
            "available": True,
            "repeats": repeats,
            **summarize(fastest(engine.name, "first_ns"), words),
            "second_pass": summarize(fastest(engine.name, "second_ns"), words),
        }
    return out


def cold_start(
    engine: Engine, texts: Sequence[str], repeats: int, *, pycache: Path
) -> dict[str, Any]:
    """Median cold start and peak RSS of ``engine`` over ``repeats`` fresh processes.

    One extra, unrecorded run first compiles bytecode (into ``pycache``) and warms the OS
    file cache, so the figures are those of a process start on a device where the app was
    already installed.
    """
    common.progress(f"cold start and peak RSS of {engine.name}: {repeats} fresh processes")
    try:
        run_child(_COLD_CHILD, engine, {"texts": list(texts[:1])}, pycache=pycache)
    except common.BenchError as exc:
        return {"available": False, "reason": str(exc)}
    runs = [
        run_child(_COLD_CHILD, engine, {"texts": list(texts)}, pycache=pycache)
        for _ in range(repeats)
    ]

    def med(*keys: str) -> float:
        return common.median([sum(r[k] for k in keys) for r in runs])

    return {
        "available": True,
        "repeats": repeats,
        "import_ms": round(med("import_s") * 1e3, 2),
        "load_ms": round(med("load_s") * 1e3, 2),
        "import_and_load_ms": round(med("import_s", "load_s") * 1e3, 2),
        "first_text_ms": round(med("first_text_s") * 1e3, 2),
        "to_first_profile_ms": round(med("import_s", "load_s", "first_text_s") * 1e3, 2),
        "peak_rss_mb": round(med("peak_rss_bytes") / MB, 2),
        **_rss_parts(runs),
    }


def _rss_parts(runs: Sequence[dict[str, Any]]) -> dict[str, float]:
    """Median anonymous and file-backed resident MB at the end of the runs (Linux only)."""
    parts = [run.get("rss_parts") or {} for run in runs]
    return {
        f"{kind}_rss_mb": round(common.median([part[kind] for part in parts]) / MB, 2)
        for kind in ("anon", "file")
        if all(kind in part for part in parts)
    }


def load_texts(quick: bool) -> tuple[list[str], list[str]]:
    """Measured texts (held-out users) and warm-up texts (training users), 300 words each."""
    from models import data

    users = data.load_mbti()
    train, held = data.split_mbti(users)
    texts = [data.first_words(users[i].posts, TEXT_WORDS) for i in held]
    warmup = [data.first_words(users[i].posts, TEXT_WORDS) for i in train[:WARMUP_TEXTS]]
    return (texts[:QUICK_TEXTS] if quick else texts), warmup


def per_text_all(
    texts: Sequence[str], warmup: Sequence[str], repeats: int, *, pycache: Path
) -> dict[str, Any]:
    """Per-text timings of our pipeline, its parts, the old featurizer and the baselines."""
    engines = (OURS, FEATURES, MODELS, OURS_BEFORE, FEATURES_BEFORE, VADER, EMPATH)
    timed = per_text(engines, texts, warmup, repeats, pycache=pycache)
    ours = timed[OURS.name]
    if not ours["available"]:
        raise common.BenchError(f"cannot run the edge client: {ours['reason']}")
    results: dict[str, Any] = {
        "ours": {
            "features_and_models": ours,
            "features_only": timed[FEATURES.name],
            "models_only": timed[MODELS.name],
        },
        "before": {
            "features_before_and_models": timed[OURS_BEFORE.name],
            "features_only_before": timed[FEATURES_BEFORE.name],
        },
        "baselines": {},
    }
    pairs = (
        ("features_before_and_models", ours),
        ("features_only_before", results["ours"]["features_only"]),
    )
    for key, now in pairs:
        entry = results["before"][key]
        if entry["available"] and now["available"]:
            entry["ratio_time_vs_ours"] = round(entry["median_ms"] / now["median_ms"], 2)
    for engine in (VADER, EMPATH):
        entry = timed[engine.name]
        if entry["available"]:
            entry["ratio_time_vs_ours"] = round(entry["median_ms"] / ours["median_ms"], 2)
            entry["ratio_words_per_second_ours_vs_baseline"] = round(
                ours["words_per_second"] / entry["words_per_second"], 2
            )
        results["baselines"][engine.name] = entry
    return results


def fresh_processes(texts: Sequence[str], repeats: int, *, pycache: Path) -> dict[str, Any]:
    """Cold start and peak RSS of ours, the baselines and the bare interpreter."""
    out = {
        engine.name: cold_start(engine, texts, repeats, pycache=pycache)
        for engine in (OURS, VADER, EMPATH, BARE)
    }
    ours = out[OURS.name]
    if not ours["available"]:
        raise common.BenchError(f"cannot start the edge client in a subprocess: {ours['reason']}")
    for engine in (VADER, EMPATH):
        entry = out[engine.name]
        if entry["available"]:
            entry["ratio_cold_start_vs_ours"] = round(
                entry["import_and_load_ms"] / ours["import_and_load_ms"], 2
            )
            entry["ratio_peak_rss_vs_ours"] = round(entry["peak_rss_mb"] / ours["peak_rss_mb"], 2)
    return out


def render(report: dict[str, Any]) -> str:
    """Format the human-readable tables of a report."""
    ours = report["per_text"]["ours"]
    base = report["per_text"]["baselines"]
    labels = {
        "features_and_models": "edge_client: features + both models",
        "features_only": "edge_client: features only",
        "models_only": "edge_client: both models only",
    }
    rows: list[list[object]] = []

    def add(label: str, entry: dict[str, Any], ratio: str) -> None:
        if not entry["available"]:
            rows.append([label, "n/a", "n/a", "n/a", entry["reason"]])
            return
        rows.append(
            [
                label,
                entry["median_ms"],
                entry["p90_ms"],
                f"{entry['words_per_second']:,.0f}",
                ratio,
            ]
        )

    for key, entry in ours.items():
        add(labels[key], entry, "")
    before_labels = {
        "features_before_and_models": "before issue 13: features + both models",
        "features_only_before": "before issue 13: features only",
    }
    for key, entry in report["per_text"]["before"].items():
        add(before_labels[key], entry, f"{entry.get('ratio_time_vs_ours', '')}x")
    for name, entry in base.items():
        add(f"{name} (baseline)", entry, f"{entry.get('ratio_time_vs_ours', '')}x")
    add(
        "edge_client: features + models, 2nd pass",
        {"available": True, **ours["features_and_models"]["second_pass"]},
        "",
    )
    n = ours["features_and_models"]["texts"]
    parts = [
        f"Per text: {n} texts of up to {TEXT_WORDS} words, one core (cpu {report['cpu']}); "
        f"load average {report['load_average']['start']} at start, "
        f"{report['load_average']['end']} at end",
        common.format_table(["method", "median ms", "p90 ms", "words/s", "time vs ours"], rows),
        "",
        "Fresh process (median of repeats): import + load, first profile, peak RSS",
    ]
    rows = []
    for name, entry in report["fresh_process"].items():
        if not entry["available"]:
            rows.append([name, "n/a", "n/a", "n/a", "n/a", "n/a", entry["reason"]])
            continue
        ratio = ""
        if "ratio_cold_start_vs_ours" in entry:
            ratio = f"{entry['ratio_cold_start_vs_ours']}x / {entry['ratio_peak_rss_vs_ours']}x"
        rows.append(
            [
                name,
                entry["import_and_load_ms"],
                entry["to_first_profile_ms"],
                entry["peak_rss_mb"],
                entry.get("anon_rss_mb", "n/a"),
                entry.get("file_rss_mb", "n/a"),
                ratio,
            ]
        )
    parts.append(
        common.format_table(
            [
                "library",
                "import+load ms",
                "to 1st text ms",
                "peak RSS MB",
                "anon MB",
                "file MB",
                "vs ours (time/RSS)",
            ],
            rows,
        )
    )
    parts += ["", "Targets"]
    parts.append(
        common.format_table(
            ["target", "value", "limit", "pass"],
            [
                [k, v["value"], f"{v['direction']} {v['threshold']} {v['unit']}", v["passed"]]
                for k, v in report["targets"].items()
            ],
        )
    )
    return "\n".join(parts)


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; returns the exit code."""
    args, cpu = common.pinned_arguments(
        (__doc__ or "").splitlines()[0], DEFAULT_OUT, argv
    )
    from models import data

    reason = common.data_missing_reason(data.data_dir())
    if reason is not None:
        return common.write_skipped(args.out, "bench_speed", reason)
    from edge_client.errors import EdgeProfilerError
    from edge_client.runtime import runtime_info

    texts, warmup = load_texts(args.quick)
    repeats = QUICK_REPEATS if args.quick else FULL_REPEATS
    load_start = common.environment()["load_average_1m"]
    try:
        with tempfile.TemporaryDirectory(prefix="bench-speed-pycache-") as pycache:
            timings = per_text_all(texts, warmup, repeats, pycache=Path(pycache))
            fresh = fresh_processes(texts, repeats, pycache=Path(pycache))
        backend = runtime_info()
    except (EdgeProfilerError, common.BenchError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    ours_fresh = fresh[OURS.name]
    baselines = timings["baselines"]
    report: dict[str, Any] = {
        "script": "bench_speed",
        "skipped": False,
        "quick": args.quick,
        "cpu": cpu,
        "environment": {
            **common.environment(),
            "tflite_backend": backend.backend.value,
            "tflite_backend_version": backend.version,
        },
        "texts": {
            "source": "first 300 words of each held-out MBTI user (models.data.split_mbti)",
            "count": len(texts),
            "mean_words": round(sum(len(t.split()) for t in texts) / len(texts), 1),
            "warmup_source": f"first 300 words of {len(warmup)} training users",
        },
        "load_average": {"start": load_start, "end": common.environment()["load_average_1m"]},
        "per_text": timings,
        "fresh_process": fresh,
        "targets": {
            TARGET_MEDIAN.name: TARGET_MEDIAN.report(
                timings["ours"]["features_and_models"]["median_ms"]
            ),
            TARGET_VADER.name: TARGET_VADER.report(
                baselines["vaderSentiment"].get("ratio_time_vs_ours", 0.0)
            ),
            TARGET_EMPATH.name: TARGET_EMPATH.report(
                baselines["empath"].get("ratio_time_vs_ours", 0.0)
            ),
            TARGET_COLD.name: TARGET_COLD.report(ours_fresh["import_and_load_ms"]),
            TARGET_RSS.name: TARGET_RSS.report(ours_fresh["peak_rss_mb"]),
        },
        "notes": [
            "Ratios are baseline / ours: above 1 means ours is faster or smaller. "
            "'before' rows run the featurizer before issue 13 (scripts/_featurizer_reference.py) "
            "in the same run; their ratio is before / now.",
            "The machine may be shared: load_average says how busy it was; ratios from the same "
            "run are more telling than absolute times.",
            "The baselines do less: VADER scores sentiment only and empath counts lexicon "
            "categories; ours counts 17 categories and hashed n-grams and runs two models.",
            "Per-text figures: each method in its own fresh processes (repeats, run "
            "round-robin across methods so load changes touch all alike), warmed on "
            "other users' texts; a text's time is its minimum over the processes; "
            "'second_pass' repeats the same texts in the same process (token caches warm).",
            "Fresh-process figures exclude interpreter start-up; bytecode and the OS file "
            "cache are warm (one unrecorded run first compiles into a temporary "
            "PYTHONPYCACHEPREFIX; an inherited PYTHONDONTWRITEBYTECODE is dropped, as an "
            "installed package has its bytecode compiled). Peak RSS includes the interpreter "
            "(see python_only) and every text profiled; it is the VmHWM of /proc/self/status "
            "where available (ru_maxrss survives exec on Linux). MB = 10^6 bytes.",
            "anon/file MB: resident memory at the end of the run, anonymous (the process's "
            "own heap and arrays) and file-backed (shared libraries, mapped models). The "
            "file-backed part depends on the kernel's page cache, not on the code: right after "
            "pip install, the same code read about 9 MB more peak RSS here, all file-backed, "
            "until the page cache was dropped (docs/benchmarks.md).",
        ],
    }
    return common.publish(args.out, report, render(report))


if __name__ == "__main__":
    sys.exit(main())
