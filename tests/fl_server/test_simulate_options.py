"""``edgeprof simulate --model``: checks made before any simulation starts."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from fl_server.cli import simulate


def test_interests_without_data_is_a_usage_error() -> None:
    """The interest model's devices are news authors, so --data is required."""
    result = CliRunner().invoke(simulate, ["--model", "interests"])
    assert result.exit_code == 2
    assert "--model interests needs --data" in result.output


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
