"""The README's examples are true: every console command and Python block runs as written."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"```(console|python|bash)\n(.*?)```", README, flags=re.S)
COMMANDS = [
    line[2:].strip()
    for kind, body in BLOCKS
    if kind == "console"
    for line in body.splitlines()
    if line.startswith("$ ")
]
PYTHON = [body for kind, body in BLOCKS if kind == "python"]


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    return env


def test_readme_has_the_two_setup_commands_first() -> None:
    """The first two bash blocks are the main job and the test command."""
    bash = [body.strip() for kind, body in BLOCKS if kind == "bash"]
    assert bash[0] == 'pip install -e ".[federated]" && edgeprof simulate'
    assert bash[1] == 'pip install -e ".[dev]" && python -m pytest -q'


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh, not yet existing folder standing in for the README's /tmp/edgeprof-readme.

    keygen never overwrites keys and must create the folder, as it does for a reader.
    """
    return tmp_path_factory.mktemp("readme") / "edgeprof-readme"


@pytest.mark.parametrize("command", COMMANDS)
def test_console_command_runs(command: str, scratch: Path) -> None:
    """Each `$ ` command of the README exits 0 from the repository root, in README order."""
    command = command.replace("/tmp/edgeprof-readme", str(scratch))
    done = subprocess.run(
        command,
        shell=True,
        cwd=REPO,
        env=_env(),
        check=False,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, f"{command}\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"


@pytest.mark.parametrize("source", PYTHON)
def test_python_block_runs(source: str) -> None:
    """Each Python block of the README runs in a fresh interpreter."""
    done = subprocess.run(
        [sys.executable, "-c", source],
        check=False,
        cwd=REPO,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]


def test_demo_runs() -> None:
    """`edgeprof demo`, the quickest look, runs and profiles both samples."""
    done = subprocess.run(
        ["edgeprof", "demo"],
        cwd=REPO,
        env=_env(),
        check=False,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.count("Decision style") >= 2


def test_main_job_runs(tmp_path: Path) -> None:
    """`edgeprof simulate`, exactly as the README runs it: it finishes, reports ε and plots."""
    done = subprocess.run(
        ["edgeprof", "simulate"],
        check=False,
        cwd=tmp_path,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "ε spent" in done.stdout
    (run,) = (tmp_path / "runs").glob("simulate-*")
    for name in ("metrics.json", "training.png", "epsilon.png"):
        assert (run / name).is_file()
