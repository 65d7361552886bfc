"""Run reports: metrics.json key order, the held-out metric's name, and the plots."""

from __future__ import annotations

import json
from pathlib import Path

from fl_server.cli import _summary
from fl_server.report import heldout_metric, plot_run, write_metrics


def _rounds(count: int) -> list[dict[str, object]]:
    return [
        {
            "round": n,
            "status": "skipped_cohort_under_k" if n == 3 else "aggregated",
            "epsilon": 0.1 * n,
            "loss": 1.0 / n,
        }
        for n in range(1, count + 1)
    ]


def test_metrics_json_keys_rounds_in_ascending_numeric_order(tmp_path: Path) -> None:
    """Held-out scores of rounds 1..12 are keyed "1".."12" in numeric order, not "1","10",..."""
    evaluation = {n: {"accuracy": n / 20, "loss": 1.0 / n} for n in (12, 2, 10, 1, 3, 11)}
    path = tmp_path / "metrics.json"
    write_metrics(path, settings={"b": 1, "a": 2}, rounds=_rounds(12), evaluation=evaluation)
    document = json.loads(path.read_text(encoding="utf-8"))
    assert list(document["heldout"]) == ["1", "2", "3", "10", "11", "12"]
    assert [r["round"] for r in document["rounds"]] == list(range(1, 13))
    assert list(document["settings"]) == ["a", "b"]
    assert document["epsilon"] == 1.2000000000000002


def test_heldout_metric_names_accuracy_or_auc() -> None:
    """The report names the metric the server computed (interests: accuracy, style: AUC)."""
    assert heldout_metric({1: {"accuracy": 0.5, "loss": 1.0}}) == "accuracy"
    assert heldout_metric({1: {"auc": 0.7, "loss": 1.0}}) == "auc"
    assert heldout_metric({}) is None


def test_summary_prints_the_final_heldout_metric_with_its_epsilon() -> None:
    """The simulation's last line names the metric of the last round and the ε spent."""
    report = {
        "rounds": _rounds(12),
        "heldout": {"2": {"accuracy": 0.2, "loss": 2.0}, "10": {"accuracy": 0.4, "loss": 1.0}},
        "epsilon": 1.2,
    }
    line = _summary(report, delta=1e-5)
    assert line.startswith("held-out top-1 accuracy 0.400 after round 10 at ε = 1.200")
    assert "rounds aggregated: 11/12" in line


def test_plots_are_written_with_budget_and_comparison(tmp_path: Path) -> None:
    """Both PNGs are written with a skipped round, the budget line and a no-noise overlay."""
    evaluation = {n: {"accuracy": n / 20} for n in (1, 2, 4)}
    paths = plot_run(
        tmp_path,
        rounds=_rounds(4),
        evaluation=evaluation,
        target_epsilon=3.0,
        target_delta=1e-5,
        label="DP",
        comparison={n: {"accuracy": n / 10} for n in (1, 2, 3, 4)},
    )
    assert [p.name for p in paths] == ["training.png", "epsilon.png"]
    assert all(p.stat().st_size > 5_000 for p in paths)
