"""Smoke test of ``scripts/bench_audit.py --quick``: it runs and writes a sane report."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_quick_audit_benchmark_writes_targets_and_boundaries(tmp_path: Path) -> None:
    """The quick run reports every target with a consistent flag, and boundaries hold."""
    out = tmp_path / "bench_audit.json"
    done = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "bench_audit.py"), "--quick", "--out", str(out)],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Outcome audits — SIMULATION" in done.stdout
    report = json.loads(out.read_text(encoding="utf-8"))
    targets = report["audits"]["targets"]
    assert set(targets) == {
        "disparity_flagged_share",
        "null_not_flagged_share",
        "fatigue_within_002_share",
        "lift_within_002_share",
    }
    for entry in targets.values():
        assert 0.0 <= entry["value"] <= 1.0
        assert entry["passed"] is (entry["value"] >= entry["threshold"])
        assert entry["devices"] >= 1000
    assert report["audits"]["budget"]["max_epsilon_charged"] <= 1.0
    boundaries = report["boundaries"]
    assert boundaries["special_interest_shown"] is False
    assert boundaries["audit_reply_bytes_same_as_non_viewer"] is True
    assert boundaries["forbidden_signal_refused"] and boundaries["store_unchanged_after_refusal"]
    assert (tmp_path / "bench_audit_sweep.png").stat().st_size > 10_000
