"""Smoke tests of the benchmark scripts: they run on a tiny budget and write sane JSON.

No timing thresholds here: the figures are checked for shape and sanity, not speed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPTS = REPO / "scripts"
sys.path.insert(0, str(SCRIPTS))

import _bench_common as common  # noqa: E402 (needs scripts/ on sys.path, set just above)

common.use_repo_imports()

from models import data  # noqa: E402 (needs the repository root on sys.path, set just above)

needs_data = pytest.mark.skipif(
    common.data_missing_reason(data.data_dir()) is not None,
    reason=str(common.data_missing_reason(data.data_dir())),
)


def run_script(name: str, out: Path, *args: str, env: dict[str, str] | None = None) -> str:
    """Run ``scripts/<name>`` with ``--out`` and return its stdout (fails on non-zero exit)."""
    done = subprocess.run(
        [sys.executable, str(SCRIPTS / name), "--out", str(out), *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
        timeout=1200,  # a hang guard, not a speed check: shared CI cores are slow
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def load(path: Path) -> dict[str, Any]:
    """Read a JSON report."""
    raw: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return raw


def check_targets(report: dict[str, Any], names: set[str]) -> None:
    """Every expected target is present with a numeric value and a consistent pass flag."""
    assert set(report["targets"]) == names
    for entry in report["targets"].values():
        assert isinstance(entry["value"], float | int)
        assert isinstance(entry["passed"], bool)
        expected = (
            entry["value"] <= entry["threshold"]
            if entry["direction"] == "<="
            else entry["value"] >= entry["threshold"]
        )
        assert entry["passed"] is expected


@pytest.mark.parametrize("script", ["bench_speed.py", "bench_accuracy.py", "bench_lookup.py"])
def test_missing_data_is_skipped_with_reason(script: str, tmp_path: Path) -> None:
    """Without the corpora a script exits 0, prints the reason and writes a skipped JSON."""
    env = {**os.environ, "EDGEPROF_DATA": str(tmp_path / "absent")}
    out = tmp_path / "report.json"
    stdout = run_script(script, out, "--quick", env=env)
    assert stdout.startswith("skipped: shared data not found")
    report = load(out)
    assert report["skipped"] is True
    assert str(tmp_path / "absent") in report["reason"]


def test_percentile_and_median_interpolate_between_ranks() -> None:
    """Percentiles interpolate linearly; empty input raises instead of returning junk."""
    values = [4.0, 1.0, 3.0, 2.0]
    assert common.percentile(values, 0) == 1.0
    assert common.percentile(values, 100) == 4.0
    assert common.percentile(values, 50) == pytest.approx(2.5)
    assert common.percentile(values, 90) == pytest.approx(3.7)
    assert common.median(values) == pytest.approx(2.5)
    with pytest.raises(common.BenchError):
        common.percentile([], 50)
    with pytest.raises(common.BenchError):
        common.percentile(values, 101)


def test_target_pass_flags_follow_direction() -> None:
    """An at-most target passes at or below its limit, an at-least target at or above."""
    at_most = common.Target("t", 0.5, common.Direction.AT_MOST, "ms")
    at_least = common.Target("a", 0.8, common.Direction.AT_LEAST, "AUC")
    assert at_most.passed(0.5) and not at_most.passed(0.51)
    assert at_least.passed(0.8) and not at_least.passed(0.79)
    assert at_most.report(0.7) == {
        "value": 0.7,
        "threshold": 0.5,
        "direction": "<=",
        "unit": "ms",
        "passed": False,
    }


def test_format_table_aligns_columns() -> None:
    """Tables have a header, a rule and one line per row, all columns aligned."""
    table = common.format_table(["name", "value"], [["a", 1.5], ["longer", 10]])
    lines = table.splitlines()
    assert len(lines) == 4
    assert lines[1] == "------  -----"
    assert lines[2] == "a         1.5"
    assert lines[3] == "longer     10"


@needs_data
@pytest.mark.data
@pytest.mark.slow
def test_bench_speed_quick_writes_sane_report(tmp_path: Path) -> None:
    """A quick speed run reports positive timings, ratios and RSS for ours and the baselines."""
    out = tmp_path / "speed.json"
    stdout = run_script("bench_speed.py", out, "--quick")
    assert "features + both models" in stdout
    report = load(out)
    assert report["skipped"] is False and report["quick"] is True
    check_targets(
        report,
        {
            "median_ms_features_and_models",
            "times_faster_than_vaderSentiment",
            "times_faster_than_empath",
            "cold_start_ms",
            "peak_rss_mb",
        },
    )
    assert report["texts"]["count"] == 20
    assert 200 < report["texts"]["mean_words"] <= 300
    ours = report["per_text"]["ours"]
    assert set(ours) == {"features_and_models", "features_only", "models_only"}
    for entry in ours.values():
        assert entry["available"] is True
        for figures in (entry, entry["second_pass"]):
            assert figures["texts"] == 20
            assert 0 < figures["median_ms"] <= figures["p90_ms"]
            assert figures["words_per_second"] > 0
    before = report["per_text"]["before"]
    assert set(before) == {"features_before_and_models", "features_only_before"}
    for entry in before.values():
        assert entry["available"] is True and entry["texts"] == 20
        assert entry["median_ms"] > 0 and entry["ratio_time_vs_ours"] > 0
    assert report["load_average"]["start"] is None or report["load_average"]["start"] >= 0
    for name in ("vaderSentiment", "empath"):
        entry = report["per_text"]["baselines"][name]
        assert entry["available"] is True
        assert entry["median_ms"] > 0 and entry["ratio_time_vs_ours"] > 0
    fresh = report["fresh_process"]
    bare_rss = fresh["python_only"]["peak_rss_mb"]
    for name in ("edge_client", "vaderSentiment", "empath"):
        assert fresh[name]["available"] is True
        assert fresh[name]["repeats"] == 2
        assert fresh[name]["import_and_load_ms"] > 0
        assert fresh[name]["peak_rss_mb"] > bare_rss > 0
        if sys.platform.startswith("linux"):  # resident memory split as /proc reports it
            parts = fresh[name]["anon_rss_mb"] + fresh[name]["file_rss_mb"]
            assert 0 < parts <= fresh[name]["peak_rss_mb"] * 1.01
    assert fresh["empath"]["ratio_peak_rss_vs_ours"] > 0


@needs_data
@pytest.mark.data
@pytest.mark.slow
def test_bench_accuracy_quick_writes_sane_report(tmp_path: Path) -> None:
    """A quick accuracy run reports AUCs in [0, 1] and interest figures far above chance."""
    out = tmp_path / "accuracy.json"
    stdout = run_script("bench_accuracy.py", out, "--quick")
    assert "ROC AUC" in stdout and "reddit-top2013" in stdout
    report = load(out)
    assert report["skipped"] is False and report["quick"] is True
    check_targets(
        report,
        {
            "style_auc_full_history",
            "style_auc_first_300_words",
            "style_auc_full_history_unchanged",
            "style_auc_first_300_words_unchanged",
            "reddit_top1_accuracy",
            "reddit_top3_accuracy",
            "reddit_macro_f1",
            "agnews_sports_to_sports",
            "agnews_business_to_finance",
            "agnews_scitech_to_tech_or_science",
            "news20_unseen_authors_accuracy",
            "special_writers_raw_special_class",
            "special_interests_in_profiles",
            "special_in_selection",
            "expected_calibration_error",
            "style_model_mb",
            "interests_model_mb",
        },
    )
    style = report["style"]
    assert style["train_users"] + style["heldout_users"] == 200
    assert style["heldout_users"] > 10
    for method in ("edge_model", "cdi_formula", "tfidf_logistic_regression"):
        for key in ("auc_full_history", "auc_first_300_words"):
            assert 0.0 <= style[method][key] <= 1.0
    news = report["interests"]
    assert news["test_documents"] == {"reddit": 600, "agnews": 600, "20news": 600}
    edge = news["edge_model"]
    # 35 groups: chance is under 0.03; the edge model must be far above it.
    assert edge["reddit"]["top1_accuracy"] > 0.5
    assert edge["reddit"]["top3_accuracy"] >= edge["reddit"]["top1_accuracy"]
    assert 0.0 <= edge["ece_all_tests"] <= 1.0
    for method in ("tfidf_lr_reddit_only", "tfidf_lr_same_training"):
        assert 0.0 <= news[method]["reddit"]["top1_accuracy"] <= 1.0
    assert 0.0 <= news["edge_recipe_without_agnews"]["agnews"]["agnews_sports"] <= 1.0
    profiles = news["profiles_default_policy"]
    assert profiles["special_interests_in_profiles"] == 0
    assert profiles["special_categories_in_selection_reasons_or_items"] == 0
    assert profiles["by_corpus"]["reddit"]["texts"] == 600
    for name in ("style", "interests"):
        assert report["model_sizes"][name]["bytes"] > 0


@pytest.mark.slow
def test_bench_update_size_reports_bytes_within_budget(tmp_path: Path) -> None:
    """Every model's plain and secure replies are measured; the style update is 64 kB at most."""
    out = tmp_path / "update_size.json"
    env = {**os.environ, "EDGEPROF_DATA": str(tmp_path / "no-data")}
    stdout = run_script("bench_update_size.py", out, "--devices", "6", env=env)
    assert "plain / before" in stdout
    report = load(out)
    sizes = report["bytes"]
    assert "skipped" in sizes["interests"]  # its devices are 20 Newsgroups authors
    assert "skipped" in report["capacity"]
    for model in ("style", "ranking"):
        row = sizes[model]
        sent = row["plain"]["bytes_up_per_device"]
        assert 4 * row["update_values"] < sent <= row["target"]["value"] <= 64_000
        assert row["secure"]["bytes_up_per_device"] > 4 * row["update_values"]
        assert row["target"]["passed"] is True
    style = sizes["style"]
    assert style["update_shapes"]["w"][1] == 1
    assert style["baseline_bytes_up_per_device"] > 4 * 131_073
    assert style["ratio_plain_to_baseline"] < 0.1


@needs_data
@pytest.mark.data
@pytest.mark.slow
def test_bench_lookup_quick_reports_every_route_beside_the_shipped_one(tmp_path: Path) -> None:
    """A quick lookup run checks the routes agree and times each beside the shipped one."""
    out = tmp_path / "lookup.json"
    assert "time vs shipped" in run_script("bench_lookup.py", out, "--quick")
    report = load(out)
    assert report["skipped"] is False and report["texts"]["count"] == 20
    routes = report["routes"]
    assert {"shipped", "numpy_table_2^22", "numpy_spans_and_hashes_only"} <= set(routes)
    assert len([name for name in routes if name.startswith("numpy_table_")]) == 2
    assert report["numpy_table_mb"]["numpy_table_2^22"] == 67.1
    assert routes["shipped"]["ratio_time_vs_shipped"] == 1.0
    for entry in routes.values():
        assert 0 < entry["median_us"] <= entry["p90_us"]
        assert entry["pieces_per_second"] > 0


def test_speed_children_cache_bytecode_whatever_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """bench_speed's children write bytecode to its cache even under PYTHONDONTWRITEBYTECODE.

    A cold start is measured as on a device where the app is installed (bytecode compiled);
    an inherited PYTHONDONTWRITEBYTECODE made every child compile every module again.
    """
    import bench_speed

    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")
    env = bench_speed.child_env(tmp_path)
    assert "PYTHONDONTWRITEBYTECODE" not in env
    assert env["PYTHONPYCACHEPREFIX"] == str(tmp_path)
    assert all(env[name] == "1" for name in common.THREAD_VARIABLES)
    module = tmp_path / "src" / "probe_module.py"
    module.parent.mkdir()
    module.write_text("VALUE = 1\n", encoding="utf-8")
    subprocess.run(
        [sys.executable, "-c", "import probe_module"],
        cwd=module.parent,
        env=env,
        check=True,
    )
    assert list(tmp_path.rglob("probe_module*.pyc"))
