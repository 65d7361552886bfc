"""Child processes: this interpreter's programs on PATH, clean logs, failures that quote them."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psutil
import pytest
from click.testing import CliRunner

from edge_client.cli import main
from fl_server.deploy.local_superlink import find_local_superlinks, stop_local_superlink
from fl_server.deploy.processes import (
    Supervisor,
    child_environment,
    interpreter_scripts,
    log_tail,
    strip_ansi,
)


def test_children_find_this_interpreters_programs_first() -> None:
    """PATH of a child starts with the scripts folder of the running interpreter."""
    env = child_environment({"FLWR_HOME": "/x"}, base={"PATH": "/usr/bin:/bin", "HOME": "/h"})
    folders = env["PATH"].split(os.pathsep)
    assert folders[0] == str(Path(sys.executable).parent)
    assert folders[-2:] == ["/usr/bin", "/bin"]
    assert env["FLWR_HOME"] == "/x" and env["FLWR_DISABLE_RUNTIME_DEPENDENCY_INSTALLATION"] == "1"
    assert (Path(interpreter_scripts()[0]) / "flower-superexec").is_file()


def test_a_grandchild_started_by_name_is_found_without_an_activated_venv() -> None:
    """As flower-superlink does with flower-superexec: a program started by name is ours."""
    env = child_environment(base={"PATH": "/usr/bin:/bin", "HOME": str(Path.home())})
    done = subprocess.run(
        ["/bin/sh", "-c", "command -v flower-superexec"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
    )
    assert done.stdout.strip() == str(Path(sys.executable).parent / "flower-superexec")


def test_child_output_is_logged_without_colour_codes(tmp_path: Path) -> None:
    """Output reaches the log file as plain text, and the tail of a failed child is quoted."""
    script = "import sys\nfor i in range(30): print(f'\\x1b[92mINFO\\x1b[0m line {i}')\nsys.exit(3)"
    with Supervisor(tmp_path) as supervisor:
        child = supervisor.spawn("child", [sys.executable, "-c", script])
        child.process.wait(timeout=30)
        tail = child.log_tail(3)
    assert tail == "INFO line 27\nINFO line 28\nINFO line 29"
    text = (tmp_path / "child.log").read_text(encoding="utf-8")
    assert "\x1b" not in text and text.count("\n") == 30
    assert strip_ansi(b"\x1b[1;31mred\x1b[0m \x1b[Kok") == b"red ok"
    assert log_tail(tmp_path / "absent.log") == ""


def test_children_and_their_helpers_end_with_the_supervisor(tmp_path: Path) -> None:
    """A child's own child (a detached helper) is ended too; the pipe reader finishes."""
    script = textwrap.dedent(
        """
        import subprocess, sys, time
        subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"],
                         start_new_session=True)
        print("started", flush=True)
        time.sleep(600)
        """
    )
    with Supervisor(tmp_path, grace=2.0) as supervisor:
        child = supervisor.spawn("parent", [sys.executable, "-c", script])
        deadline = time.monotonic() + 30
        while "started" not in log_tail(child.log) and time.monotonic() < deadline:
            time.sleep(0.1)
        helpers = psutil.Process(child.pid).children()
        assert len(helpers) == 1
    assert not child.running() and not helpers[0].is_running()
    assert child.pump is not None and not child.pump.is_alive()


def _fake_superlink(tmp_path: Path, home: Path) -> subprocess.Popen[bytes]:
    """A process that looks like Flower's local SuperLink of ``home``, with a helper child."""
    program = tmp_path / "flower-superlink"
    program.write_text(
        "import subprocess, sys, time\n"
        "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'])\n"
        "time.sleep(600)\n",
        encoding="utf-8",
    )
    log = home / "local-superlink" / "superlink.log"
    return subprocess.Popen([sys.executable, str(program), "--insecure", "--log-file", str(log)])


def test_flower_stop_ends_only_the_local_superlink_of_that_home(tmp_path: Path) -> None:
    """'edgeprof flower stop' ends the SuperLink of FLWR_HOME and its helpers, no other."""
    mine, other = tmp_path / "home", tmp_path / "other-home"
    link, foreign = _fake_superlink(tmp_path, mine), _fake_superlink(tmp_path, other)
    try:
        deadline = time.monotonic() + 30
        while not psutil.Process(link.pid).children() and time.monotonic() < deadline:
            time.sleep(0.1)
        helper = psutil.Process(link.pid).children()[0]
        assert [p.pid for p in find_local_superlinks(mine)] == [link.pid]
        result = CliRunner().invoke(main, ["flower", "stop", "--flwr-home", str(mine)])
        assert result.exit_code == 0, result.output
        assert f"(pid {link.pid}) and 1 process(es) it started" in result.stdout
        assert link.wait(timeout=10) is not None and not helper.is_running()
        assert foreign.poll() is None  # another home's SuperLink is left alone
        again = CliRunner().invoke(main, ["flower", "stop", "--flwr-home", str(mine)])
        assert again.exit_code == 0 and "no local SuperLink is running" in again.stdout
    finally:
        stop_local_superlink(other, grace=2.0)
        link.kill()
        foreign.wait(timeout=10)
        link.wait(timeout=10)


def test_a_superlink_that_dies_is_reported_with_its_own_last_lines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A SuperLink exiting early is reported with its own last log lines, not 'status 3'."""
    from fl_server import simulation
    from fl_server.errors import ServerError

    code = 3
    fake = tmp_path / "bin" / "flower-superlink"
    fake.parent.mkdir()
    fake.write_text(
        f"#!{sys.executable}\nimport sys\n"
        "print('FileNotFoundError: [Errno 2] No such file or directory: flower-superexec')\n"
        f"sys.exit({code})\n",
        encoding="utf-8",
    )
    fake.chmod(0o755)
    monkeypatch.setattr(simulation, "flower_executable", lambda name: str(fake))
    with pytest.raises(ServerError) as caught:
        simulation.simulate(tmp_path / "out", num_supernodes=2, run_config={})
    message = str(caught.value)
    assert message.startswith(f"flower-superlink exited early (status {code})")
    assert "| FileNotFoundError: [Errno 2] No such file or directory: flower-superexec" in message


def test_a_failed_run_prints_the_end_of_its_log_and_nothing_on_stdout_after(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Real SuperLink, failing `flwr run`: stderr quotes run.log's last lines, status 1."""
    from fl_server import simulation
    from fl_server.deploy.launcher import flower_executable

    fake = tmp_path / "flwr"
    fake.write_text(
        f"#!{sys.executable}\nimport sys\n"
        "print('\\x1b[91mERROR\\x1b[0m : run 7 failed: ServerApp raised ValueError')\n"
        "sys.exit(1)\n",
        encoding="utf-8",
    )
    fake.chmod(0o755)
    monkeypatch.setattr(
        simulation,
        "flower_executable",
        lambda name: str(fake) if name == "flwr" else flower_executable(name),
    )
    out = tmp_path / "run"
    args = ["--devices", "300", "--rounds", "1", "--policy", "research", "--output", str(out)]
    result = CliRunner().invoke(main, ["simulate", *args])
    assert result.exit_code == 1, result.output
    assert result.stdout.startswith("simulating 300 devices") and result.stdout.count("\n") == 1
    assert result.stderr.startswith("error: the run failed (flwr run exited with status 1)")
    assert f"last lines of {out / 'run.log'}:\n  | ERROR : run 7 failed" in result.stderr
    assert "\x1b" not in result.stderr
