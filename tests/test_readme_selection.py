"""The README's selection examples personalize and say why (not only exit 0)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text(encoding="utf-8")


def _run(command: str | list[str]) -> subprocess.CompletedProcess[str]:
    """Run a README command from the repo root, this interpreter's programs first on PATH."""
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    return subprocess.run(
        command,
        shell=isinstance(command, str),
        cwd=REPO,
        env=env,
        check=False,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_python_selection_example_personalizes() -> None:
    """The README's Python selection block prints `personalized: True` and interest reasons."""
    (block,) = [
        body
        for body in re.findall(r"```python\n(.*?)```", README, flags=re.S)
        if "profiler.select(" in body
    ]
    for _ in range(5):  # a 5% control-group draw shows generic content: draw again
        done = _run([sys.executable, "-c", block])
        assert done.returncode == 0, done.stderr[-2000:]
        if "small random group" not in done.stdout:
            break
    assert "personalized: True" in done.stdout
    assert "Shown because of your interest in" in done.stdout


def test_store_and_select_commands_personalize(tmp_path: Path) -> None:
    """`edgeprof store ... observe` then `edgeprof select`, as in the README, personalize."""
    lines = [
        line[2:].strip()
        for line in re.findall(r"^\$ .*$", README, flags=re.M)
        if ("edgeprof store" in line and " observe " in line)
        or line.startswith("$ edgeprof select --dir")
    ]
    assert len(lines) == 2, lines
    # A new device's first window is drawn into the audit's random control group (generic
    # content, said in the reason) with probability control_share = 5%: then a new device
    # draws again; five control draws in a row (3e-7) would mean something is wrong.
    for attempt in range(5):
        outputs = []
        for command in lines:
            scratch = str(tmp_path / f"attempt-{attempt}")
            done = _run(command.replace("/tmp/edgeprof-readme", scratch))
            assert done.returncode == 0, done.stderr[-2000:]
            outputs.append(done.stdout)
        if "small random group" not in outputs[1]:
            break
    assert "Shown because of your interest in" in outputs[1]
    assert "personalization is off" not in outputs[1]
