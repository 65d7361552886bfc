"""Static checks are part of the suite: ruff and strict mypy stay clean."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
TARGETS = ["edge_client", "fl_server", "models", "scripts", "tests"]


@pytest.mark.skipif(
    shutil.which("ruff") is None and not (Path(sys.executable).parent / "ruff").exists(),
    reason="ruff is not installed (dev extra)",
)
def test_ruff_clean() -> None:
    """`ruff check` reports nothing on the project's code."""
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or "ruff"
    done = subprocess.run(
        [ruff, "check", *TARGETS], cwd=REPO, check=False, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout[-4000:]


def test_mypy_strict_clean() -> None:
    """`mypy` (strict, configured in pyproject.toml) reports nothing."""
    pytest.importorskip("mypy", reason="mypy is not installed (dev extra)")
    done = subprocess.run(
        [sys.executable, "-m", "mypy", *TARGETS],
        cwd=REPO,
        check=False,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout[-4000:]
