"""The README's examples are true: every console command and Python block runs as written.

Each also succeeds quietly: nothing on stderr (results go to stdout; log lines only with -v).
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from fl_server.cli import BUILTIN_ROUNDS

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
BIN = Path(sys.executable).parent


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = str(BIN) + os.pathsep + env.get("PATH", "")
    return env


def _bare_env() -> dict[str, str]:
    """An environment as a new shell has it: the virtual environment is NOT on PATH."""
    keep = ("HOME", "LANG", "LC_ALL", "TMPDIR", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
    return {"PATH": "/usr/bin:/bin", **{k: os.environ[k] for k in keep if k in os.environ}}


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
    assert done.stderr == "", f"{command} succeeded but wrote to stderr:\n{done.stderr[-2000:]}"


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
    assert done.stderr == ""


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
    assert done.stderr == ""


def test_main_job_runs(tmp_path: Path) -> None:
    """`edgeprof simulate` as the README runs it, from a shell where the venv is NOT active.

    Flower's SuperLink starts `flower-superexec` by name, so this proves every child finds
    this environment's programs. Success is quiet: one line per round and a summary on
    stdout, no escape codes, nothing on stderr; Flower's logs are in the run folder.
    """
    done = subprocess.run(
        [str(BIN / "edgeprof"), "simulate"],
        check=False,
        cwd=tmp_path,
        env=_bare_env(),
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert done.stderr == ""
    lines = done.stdout.splitlines()
    rounds = BUILTIN_ROUNDS
    assert [line.split(":")[0] for line in lines if line.startswith("round ")] == [
        f"round {n}/{rounds}" for n in range(1, rounds + 1)
    ]
    assert any(line.startswith("held-out top-1 accuracy ") and "at ε = " in line for line in lines)
    assert "\x1b" not in done.stdout
    (run,) = (tmp_path / "runs").glob("simulate-*")
    for name in ("metrics.json", "training.png", "epsilon.png", "run.log", "superlink.log"):
        assert (run / name).is_file()
    assert "\x1b" not in (run / "run.log").read_text(encoding="utf-8")
    # It learns: held-out rounds 0..N in numeric order, the head from zero rises well above
    # its start and keeps rising after round 1, the held-out loss falls, every reply is
    # accepted, ε stays within ε <= 8.
    report = json.loads((run / "metrics.json").read_text(encoding="utf-8"))
    heldout = report["heldout"]
    last = str(rounds)
    assert list(heldout) == [str(n) for n in range(rounds + 1)]
    assert heldout[last]["accuracy"] > heldout["0"]["accuracy"] + 0.5, heldout
    assert heldout[last]["accuracy"] > heldout["1"]["accuracy"] + 0.02, heldout
    assert heldout[last]["loss"] < heldout["1"]["loss"] < heldout["0"]["loss"]
    assert all(not r["rejected"] for r in report["rounds"])
    assert 0 < report["epsilon"] <= 8


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.slow
def test_flower_native_path_cleans_up(tmp_path: Path) -> None:
    """The README's `flwr run .` block runs, and `edgeprof flower stop` ends its SuperLink.

    The block runs as written in one shell, with two changes to keep the test small and
    private: FLWR_HOME points into tmp_path (and the local SuperLink uses free ports), and the
    `flwr run` line gets 300 devices, 2 rounds of the research policy and a tmp output folder.
    """
    from fl_server.deploy.local_superlink import find_local_superlinks

    (block,) = [body for kind, body in BLOCKS if kind == "bash" and "flwr run ." in body]
    home, out = tmp_path / "flwr-home", tmp_path / "out"
    script = block.replace('"$PWD/runs/flwr-home"', f'"{home}"').replace(
        '"num-supernodes=3000 client-resources-num-cpus=1"',
        '"num-supernodes=300 client-resources-num-cpus=1" --run-config '
        f"\"num-rounds=2 policy='research' output-dir='{out}' "
        f"model-trust='{out}/keys/model-signing.pub'\"",
    )
    assert script.count(str(home)) == 1 and script.count(str(out)) == 2
    env = {
        **_env(),
        "FLWR_LOCAL_SUPERLINK_HTTP_API_PORT": str(_free_port()),
        "FLWR_LOCAL_CONTROL_API_PORT": str(_free_port()),
    }
    try:
        done = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script],
            cwd=REPO,
            env=env,
            check=False,
            capture_output=True,
            text=True,
            timeout=900,
        )
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        assert "stopped the local SuperLink" in done.stdout
        assert find_local_superlinks(home) == []
        assert (out / "metrics.json").is_file()
        assert (home / "config.toml").is_file() and not (Path.home() / ".flwr" / "apps").is_dir()
    finally:
        subprocess.run(
            [str(BIN / "edgeprof"), "flower", "stop", "--flwr-home", str(home)],
            check=False,
            capture_output=True,
            timeout=120,
        )
