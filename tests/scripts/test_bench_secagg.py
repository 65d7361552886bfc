"""Smoke test: the secure-aggregation benchmark runs on a small budget and reports sanely.

It checks the report's shape and plausibility, never timings.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_bench_secagg_quick(tmp_path: Path) -> None:
    """Plain and secure rounds of 12 devices report bytes, times and an exact encoding."""
    out = tmp_path / "secagg.json"
    done = subprocess.run(
        [
            sys.executable,
            str(REPO / "scripts" / "bench_secagg.py"),
            "--quick",
            "--no-accuracy",
            "--devices",
            "12",
            "--out",
            str(out),
        ],
        check=False,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "secure / plain" in done.stdout
    (cost,) = json.loads(out.read_text(encoding="utf-8"))["cost"]
    for mode in ("plain", "secure"):
        assert cost[mode]["accepted"] == 12
        # the style model v2 update: 8,193 float32 values, within the 64 kB per round target
        assert 8_193 * 4 < cost[mode]["bytes_up_per_device"] < 64_000
        assert cost[mode]["device_seconds_per_device"] > 0
    assert cost["secure"]["protocol"]["effective_noise_multiplier"] >= 1.2  # strict's z
    assert cost["encoding"]["coordinates_wrapped"] == 0
    assert cost["encoding"]["relative_error_of_sum"] < 1e-4
