"""Piece lookup: the shipped dictionary map side by side with a NumPy and a compiled route.

Issue 13 asks for ten times the speed of vaderSentiment and empath, in pure Python and
NumPy unless a maintained compiled wheel does the work. Splitting a text into pieces and
looking each piece up is the featurizer's largest step, and the one a vectorised or
compiled tokenizer would replace. This benchmark measures that step alone, on the same
real texts, in one process, with every piece already known (so no method pays for new
words):

- **shipped**: ``str.split`` and one C-level ``map`` of ``dict.__getitem__`` read into an
  array with ``np.fromiter`` (what :func:`edge_client.text.tokenizer.pieces_of` and
  :meth:`edge_client.text.vocabulary.Vocabulary.rows` do);
- **numpy**: the same piece numbers with NumPy alone: the UTF-8 bytes as an array, piece
  spans from the spaces, a polynomial hash per span from one cumulative sum, and a lookup
  in an open-addressing table (vectorised probing), once with a table of at least four
  slots a piece and once with a sparse one of 2**22 slots (64 MB), where almost no lookup
  probes further than its home slot;
- **numpy, spans and hashes only**: the numpy route without its table lookup (a lower
  bound of any lookup built on it);
- **tokenizers**: Hugging Face ``tokenizers`` (a maintained Rust wheel), a ``WordLevel``
  model over the same table with a whitespace pre-tokenizer, when it is installed.

Every method must return the shipped piece numbers for every text, or the run fails.
The input of every method is the text as the featurizer splits it (``pieces_of`` joined by
single spaces), so normalising and spacing, the same for all, are not timed.

Run from the repository root::

    python scripts/bench_lookup.py [--quick] [--out PATH] [--cpu N]

``--quick`` uses 20 texts and 2 repeats. The JSON report (default
``reports/bench_lookup.json``) holds every figure. Without the shared corpora it prints
``skipped: <reason>``, writes a JSON saying so and exits 0.
"""

from __future__ import annotations

import gc
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import _bench_common as common

DEFAULT_OUT = common.REPO_ROOT / "reports" / "bench_lookup.json"
QUICK_REPEATS = 2
FULL_REPEATS = 5
SPARSE_BITS = 22


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; returns the exit code."""
    args, cpu = common.pinned_arguments(
        (__doc__ or "").splitlines()[0], DEFAULT_OUT, argv
    )
    from models import data

    reason = common.data_missing_reason(data.data_dir())
    if reason is not None:
        return common.write_skipped(args.out, "bench_lookup", reason)
    import bench_speed
    from _lookup_routes import ArrayLookup, dictionary_numbers, word_level_tokenizer

    from edge_client.text.common_words import load_common_words
    from edge_client.text.tokenizer import normalise, pieces_of

    texts, _warmup = bench_speed.load_texts(args.quick)
    common.progress(f"building the piece tables from {len(texts)} texts")
    spaced = [" ".join(pieces_of(normalise(text))) for text in texts]
    numbers: dict[str, int] = {}
    for word in load_common_words().words:
        numbers.setdefault(word, len(numbers))
    for line in spaced:
        for piece in line.split():
            numbers.setdefault(piece, len(numbers))
    compact = ArrayLookup(numbers, bits=(4 * len(numbers) - 1).bit_length())
    sparse = ArrayLookup(numbers, bits=SPARSE_BITS)
    routes: dict[str, Callable[[str], Any]] = {
        "shipped": lambda line: dictionary_numbers(numbers, line),
        f"numpy_table_2^{compact.bits}": compact.numbers,
        f"numpy_table_2^{sparse.bits}": sparse.numbers,
        "numpy_spans_and_hashes_only": compact.hashes,
    }
    tokenizer = word_level_tokenizer(numbers)
    if tokenizer is not None:
        routes["tokenizers"] = tokenizer
    check_equal(routes, spaced)
    repeats = QUICK_REPEATS if args.quick else FULL_REPEATS
    minimum = time_routes(routes, spaced, repeats)
    pieces = [len(line.split()) for line in spaced]
    shipped = common.median(minimum["shipped"])
    results: dict[str, Any] = {}
    for name, seconds in minimum.items():
        median = common.median(seconds)
        results[name] = {
            "median_us": round(median * 1e6, 2),
            "p90_us": round(common.percentile(seconds, 90) * 1e6, 2),
            "pieces_per_second": round(sum(pieces) / sum(seconds), 1),
            "ratio_time_vs_shipped": round(median / shipped, 2),
        }
    report: dict[str, Any] = {
        "script": "bench_lookup",
        "skipped": False,
        "quick": args.quick,
        "cpu": cpu,
        "environment": common.environment(),
        "texts": {
            "source": "first 300 words of each held-out MBTI user (models.data.split_mbti)",
            "count": len(texts),
            "mean_pieces": round(sum(pieces) / len(pieces), 1),
            "table_entries": len(numbers),
        },
        "repeats": repeats,
        "routes": results,
        "numpy_table_mb": {
            f"numpy_table_2^{table.bits}": round(table.nbytes / 1e6, 1)
            for table in (compact, sparse)
        },
        "tokenizers": _tokenizers_version() if tokenizer is not None else None,
        "notes": [
            "Every piece is known (second-pass conditions): new words cost the same for all.",
            "A text's time is its minimum over the repeats; routes run interleaved per text.",
            "ratio_time_vs_shipped above 1: the route is slower than the shipped one.",
            "The numpy route's 64-bit polynomial hash is not collision-proof against chosen "
            "text; a real one would also compare the bytes of every hit.",
        ],
    }
    return common.publish(args.out, report, render(report))


def check_equal(routes: Mapping[str, Callable[[str], Any]], spaced: Sequence[str]) -> None:
    """Every route (but the hash-only bound) must give the shipped piece numbers.

    Raises
    ------
    common.BenchError
        Naming the route and the text number that differ.
    """
    import numpy as np

    shipped = routes["shipped"]
    for name, route in routes.items():
        if name in ("shipped", "numpy_spans_and_hashes_only"):
            continue
        for number, line in enumerate(spaced):
            if not np.array_equal(route(line), shipped(line)):
                raise common.BenchError(f"route {name!r} differs from shipped on text {number}")


def time_routes(
    routes: Mapping[str, Callable[[str], Any]], spaced: Sequence[str], repeats: int
) -> dict[str, list[float]]:
    """Seconds per text of each route: the minimum over ``repeats``, routes interleaved."""
    clock = time.perf_counter_ns
    best: dict[str, list[float]] = {name: [float("inf")] * len(spaced) for name in routes}
    for repeat in range(repeats):
        common.progress(f"timing round {repeat + 1} of {repeats}: {len(routes)} routes")
        gc.collect()
        gc.disable()
        try:
            for index, line in enumerate(spaced):
                for name, route in routes.items():
                    start = clock()
                    route(line)
                    best[name][index] = min(best[name][index], (clock() - start) / 1e9)
        finally:
            gc.enable()
    return best


def render(report: Mapping[str, Any]) -> str:
    """The report as a table."""
    texts = report["texts"]
    lines = [
        f"Piece lookup: {texts['count']} texts, {texts['mean_pieces']} pieces each on average, "
        f"table of {texts['table_entries']:,} pieces, one core (cpu {report['cpu']})",
    ]
    rows = [
        [
            name,
            entry["median_us"],
            entry["p90_us"],
            f"{entry['pieces_per_second']:,.0f}",
            f"{entry['ratio_time_vs_shipped']}x",
        ]
        for name, entry in report["routes"].items()
    ]
    headers = ("route", "median us", "p90 us", "pieces/s", "time vs shipped")
    lines.append(common.format_table(headers, rows))
    sizes = ", ".join(f"{name} {mb} MB" for name, mb in report["numpy_table_mb"].items())
    lines.append(f"NumPy table sizes (keys and values): {sizes}")
    if "tokenizers" not in report["routes"]:
        lines.append("tokenizers: not installed (pip install tokenizers to include it)")
    return "\n".join(lines)


def _tokenizers_version() -> str:
    import tokenizers

    return str(tokenizers.__version__)


if __name__ == "__main__":
    sys.exit(main())
