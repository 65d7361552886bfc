"""``edgeprof simulate --model``: checks made before any simulation starts."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from fl_server.cli import simulate


def test_builtin_population_bounds_the_devices() -> None:
    """Without --data the interest job uses the built-in population: no more devices than it has."""
    result = CliRunner().invoke(simulate, ["--devices", "100000"])
    assert result.exit_code == 2
    assert "built-in population has 3559 training devices" in result.output


def test_builtin_job_under_the_default_policy_checks_the_cohort() -> None:
    """The built-in job under an explicit policy still refuses cohorts that would be under k."""
    result = CliRunner().invoke(simulate, ["--devices", "100", "--policy", "default"])
    assert result.exit_code == 2
    assert "expected cohort q·N = 0.02·100 is below k = 50" in result.output


def test_unknown_model_is_a_usage_error() -> None:
    """Only the three federated models are accepted."""
    result = CliRunner().invoke(simulate, ["--model", "profile"])
    assert result.exit_code == 2
    assert "'profile' is not one of" in result.output


def test_interests_with_data_lacking_20news_names_the_file(tmp_path: Path) -> None:
    """A data folder without 20news is refused with the file it could not read."""
    result = CliRunner().invoke(simulate, ["--model", "interests", "--data", str(tmp_path)])
    assert result.exit_code == 2
    assert "20news" in result.output and "cannot read" in result.output
