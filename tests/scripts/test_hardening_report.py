"""Smoke test of scripts/hardening_report.py: a quick run writes sane JSON with no failure."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_quick_hardening_report_counts_no_traceback_hang_or_lost_write(tmp_path: Path) -> None:
    """Every decoder's quick corpus ends cleanly; two parallel writers lose nothing."""
    out = tmp_path / "hardening.json"
    done = subprocess.run(
        [
            sys.executable,
            str(REPO / "scripts" / "hardening_report.py"),
            "--quick",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(out.read_text(encoding="utf-8"))
    decoders = report["decoders"]
    assert len(decoders) >= 12
    assert sum(row["tried"] for row in decoders.values()) > 50
    for name, row in decoders.items():
        assert row.get("traceback", 0) == 0 and row.get("hang", 0) == 0, (name, row)
        assert row.get("clean_error", 0) > 0, name  # the corpus is hostile: refusals happen
    assert report["this_tree"]["concurrency"] == [
        {"writers": 2, "acknowledged": 2, "kept": 2, "lost": 0}
    ]
    assert "ALL DECODERS" in done.stdout
    table = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "hardening_report.py"), "--markdown", str(out)],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=True,
    ).stdout
    assert "| **all decoders** |" in table and "| this tree | 2 | 2 | 2 | 0 |" in table
