"""Smoke tests: the selection and federated benchmarks run on a small budget and report sanely.

They check the reports' shape and plausibility, never timings.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DATA = REPO.parent / "shared" / "data"

needs_data = pytest.mark.skipif(
    not (DATA / "mbti" / "users.jsonl").is_file() or not (DATA / "20news" / "test.jsonl").is_file(),
    reason=f"shared data not found at {DATA} (the benchmarks measure on the real corpora)",
)


def _run(script: str, out: Path, *extra: str) -> dict[str, object]:
    """Run a benchmark script with --quick and return its JSON report."""
    done = subprocess.run(
        [sys.executable, str(REPO / "scripts" / script), "--quick", "--out", str(out), *extra],
        check=False,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    report: dict[str, object] = json.loads(out.read_text(encoding="utf-8"))
    return report


@needs_data
def test_bench_selection_quick(tmp_path: Path) -> None:
    """The selector beats popularity and random on unseen authors, and speed is reported."""
    report = _run("bench_selection.py", tmp_path / "selection.json")
    methods = report["ranking"]["methods"]  # type: ignore[index]  # JSON report
    assert 0.0 <= methods["random"]["auc"] <= 1.0
    assert methods["personalized"]["auc"] > methods["popularity"]["auc"] > 0.0
    assert methods["personalized"]["ndcg10"] > methods["random"]["ndcg10"]
    speed = report["speed"]  # JSON report
    assert speed["select_median_ms"] > 0 and speed["numpy_dot_median_ms"] > 0  # type: ignore[index]  # JSON report
    assert "SIMULATION" in report["simulation"]["label"]  # type: ignore[index]  # JSON report


@needs_data
def test_bench_federated_quick(tmp_path: Path) -> None:
    """Centralized, federated and DP runs all report; DP stays within the policy's ε."""
    report = _run("bench_federated.py", tmp_path / "federated.json", "--data", str(DATA))
    for key in ("centralized", "federated_plain", "federated_dp"):
        auc = report[key]["auc"]  # type: ignore[index]  # JSON report
        assert 0.0 <= auc <= 1.0
    assert report["federated_dp"]["epsilon"] <= 3.0  # type: ignore[index]  # JSON report
    assert report["federated_plain"]["bytes_per_client_round"] > 0  # type: ignore[index]  # JSON report
    news = report["interests"]
    assert 0.0 <= news["federated_plain"]["accuracy"] <= 1.0  # type: ignore[index]  # JSON report
