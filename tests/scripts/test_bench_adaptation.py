"""``scripts/bench_adaptation.py --quick``: federated rounds adapt a variant to new people."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DATA = REPO.parent / "shared" / "data"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not (DATA / "20news" / "train.jsonl").is_file()
        or not (DATA / "reddit-top2013" / "train.jsonl").is_file(),
        reason=f"shared corpora not found at {DATA}",
    ),
    pytest.mark.skipif(
        importlib.util.find_spec("tensorflow") is None,
        reason="the variant model is converted with TensorFlow (pip install -e '.[build]')",
    ),
]


def test_quick_adaptation_federated_beats_the_start_model(tmp_path: Path) -> None:
    """The quick run federates through the real ClientApp and improves on the start model.

    The variant is built without 20 Newsgroups into a fresh work folder; federated FedAvg
    (DP off) ends above the start accuracy on unseen authors with no device refusing, the
    centralized arm runs as many rounds, the DP run spends a positive ε within the research
    budget, and the report, table and plot are written.
    """
    out = tmp_path / "bench_adaptation.json"
    done = subprocess.run(
        [
            sys.executable,
            str(REPO / "scripts" / "bench_adaptation.py"),
            "--quick",
            "--out",
            str(out),
            "--work",
            str(tmp_path / "work"),
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=900,
        check=False,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "federated FedAvg (clipped, DP off)" in done.stdout
    assert "INFO" not in done.stdout  # library log lines stay off stdout
    report = json.loads(out.read_text(encoding="utf-8"))
    start = report["start"]["accuracy"]
    federated = report["federated"]["curve"]
    assert len(federated) == report["config"]["rounds"]
    assert federated[-1] > start
    assert len(report["centralized"]["curve"]) == len(federated)
    assert report["federated"]["refused_replies"] == 0
    assert report["federated"]["bytes_per_client_round"] < 64_000
    assert 0 < report["federated_dp"]["epsilon"] <= report["federated_dp"]["target_epsilon"]
    assert report["shipped_reference"]["accuracy"] > start  # its encoder saw 20 Newsgroups
    gain = report["targets"]["federated_gain_over_start"]
    assert gain["value"] == pytest.approx(federated[-1] - start, abs=1e-4)
    assert out.with_suffix(".png").stat().st_size > 10_000
