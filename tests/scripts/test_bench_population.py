"""``scripts/bench_population.py --quick``: the main job's benchmark runs and reports sanely."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_quick_run_reports_every_target_side_by_side(tmp_path: Path) -> None:
    """The quick run writes the JSON, both plots and a table row for every target."""
    done = subprocess.run(
        [
            sys.executable,
            str(REPO / "scripts" / "bench_population.py"),
            "--quick",
            "--out",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=1200,  # a hang guard, not a speed check
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads((tmp_path / "bench_population.json").read_text(encoding="utf-8"))
    assert report["train_devices"] >= 3000 and report["rounds"] == 4
    assert list(report["dp"]["curve"]) == [str(n) for n in range(5)]
    assert 0 < report["dp"]["epsilon"] <= 8
    assert report["devices_1k"]["clients_per_round"] >= 1000
    assert report["plain"]["bytes_per_device_round"] <= 64 * 1024
    assert report["dp"]["accepted_per_round"] == report["dp"]["clients_per_round"]
    assert len(report["overhead"]["ratios"]) == 1
    for name in ("bench_population.png", "bench_population_epsilon.png"):
        assert (tmp_path / name).stat().st_size > 5_000
    for row in ("accuracy cost of DP", "wrapper / plain FedAvg", "bytes sent per device"):
        assert row in done.stdout
    assert "aggregate_train" not in done.stdout + done.stderr  # no Flower log lines
    assert "\x1b" not in done.stdout
