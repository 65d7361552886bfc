"""The main job's configuration, in-process: the interest head learns on held-out devices."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from edge_client.federated.app import app as client_app
from edge_client.federated.reddit_population import load_population
from fl_server.app import run_server
from fl_server.cli import INTEREST_LEARNING_RATE
from fl_server.local_grid import LocalGrid
from fl_server.settings import ServerSettings


@pytest.mark.slow
def test_main_job_config_raises_heldout_accuracy_over_rounds(tmp_path: Path) -> None:
    """The main job's settings for 6 rounds: held-out top-1 accuracy rises above the start.

    `edgeprof simulate` defaults: interest head from zero, research preset, built-in
    population. Every reply is accepted and metrics.json keys rounds 0..6 in numeric order.
    """
    population = load_population()
    config: dict[str, bool | float | int | str] = {
        "policy": "research",
        "model": "interests",
        "data": "",
        "model-trust": str(tmp_path / "keys" / "model-signing.pub"),
        "local-epochs": 2,
        "learning-rate": INTEREST_LEARNING_RATE,
        "initial-model": "zero",
        "seed": 1,
        "output-dir": str(tmp_path),
        "num-rounds": 6,
    }
    nodes = [{"partition-id": i} for i in range(population.train_devices)]
    result = run_server(
        LocalGrid(client_app, nodes, config, keep=False), ServerSettings.from_run_config(config)
    )
    report = json.loads(result.metrics.read_text(encoding="utf-8"))
    heldout = report["heldout"]
    assert list(heldout) == [str(n) for n in range(7)]
    start, end = heldout["0"]["accuracy"], heldout["6"]["accuracy"]
    assert end > start + 0.02, heldout
    assert all(not r["rejected"] for r in report["rounds"])
    assert 0 < result.epsilon < 8
