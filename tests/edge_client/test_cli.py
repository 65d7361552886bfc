"""Tests of the edgeprof command line (profile, demo, info) on real models."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from edge_client.cli import main

SAMPLE = (
    "I compared the two laptops on battery life, weight and price. The second one lasts "
    "two hours longer, so it is the better value for travel."
)


def run(*args: str, stdin: bytes | None = None) -> tuple[int, str, str]:
    """Invoke edgeprof; return exit code, stdout and stderr."""
    result = CliRunner().invoke(main, list(args), input=stdin)
    return result.exit_code, result.stdout, result.stderr


def test_profile_readable_output(tmp_path: Path) -> None:
    """A text file gives a readable profile that flags thin evidence."""
    path = tmp_path / "me.txt"
    path.write_text(SAMPLE, encoding="utf-8")
    code, out, _ = run("profile", str(path))
    assert code == 0
    assert "Decision style:" in out and "evidence is thin" in out


def test_profile_json_and_stdin() -> None:
    """--json prints one JSON profile; '-' reads standard input."""
    code, out, _ = run("profile", "--json", "-", stdin=SAMPLE.encode())
    assert code == 0
    data = json.loads(out)
    assert data["words"] == 26 and 0 <= data["decision_style"]["analytical"] <= 1


def test_jsonl_one_profile_per_line_in_order(tmp_path: Path) -> None:
    """--jsonl writes one record per input line, in order, bad lines reported with numbers."""
    path = tmp_path / "in.jsonl"
    path.write_text(
        json.dumps({"id": "a", "text": SAMPLE})
        + "\n{broken\n"
        + json.dumps({"text": ""})
        + "\n"
        + json.dumps({"id": "b", "text": "Go Yankees! Great inning for the pitcher."})
        + "\n",
        encoding="utf-8",
    )
    code, out, err = run("profile", "--jsonl", str(path))
    assert code == 1
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["line"] for r in rows] == [1, 2, 3, 4]
    assert rows[0]["id"] == "a" and rows[0]["words"] == 26
    assert "error" in rows[1] and "in.jsonl:2" in err
    assert rows[2]["evidence"] == "none" and rows[2]["decision_style"]["analytical"] is None
    assert rows[3]["interests"][0]["label"] == "Sports"


def test_binary_file_is_a_clear_error(tmp_path: Path) -> None:
    """A binary file is reported by name, not with a traceback."""
    path = tmp_path / "img.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    code, _, err = run("profile", str(path))
    assert code == 1
    assert "img.png: looks like binary data" in err
    assert "Traceback" not in err


def test_missing_jsonl_file() -> None:
    """A missing --jsonl file is reported and the exit code is 1."""
    code, _, err = run("profile", "--jsonl", "/nonexistent/x.jsonl")
    assert code == 1 and "no such file" in err


def test_demo_profiles_bundled_samples() -> None:
    """The demo profiles the two bundled samples and explains them."""
    code, out, _ = run("demo")
    assert code == 0
    assert "== analytical_review.txt ==" in out and "== emotional_story.txt ==" in out
    assert "words that moved it most" in out


def test_info_names_runtime_and_models() -> None:
    """The info command shows the runtime backend and both models."""
    code, out, _ = run("info")
    assert code == 0
    assert "runtime:" in out and "model style" in out and "model interests" in out


def test_policy_group_is_registered() -> None:
    """The policy group is registered: lint works on a shipped preset."""
    preset = Path(__file__).resolve().parents[2] / "policies" / "default.toml"
    code, out, err = run("policy", "lint", str(preset))
    assert code == 0, out + err


def test_select_with_a_profile_json(tmp_path: Path) -> None:
    """Select --profile uses a profile JSON from 'profile --json' and explains each pick."""
    text = tmp_path / "me.txt"
    text.write_text(SAMPLE * 20, encoding="utf-8")
    code, out, _ = run("profile", "--json", str(text))
    assert code == 0
    (tmp_path / "p.json").write_text(out, encoding="utf-8")
    code, out, _ = run(
        "select", "--profile", str(tmp_path / "p.json"), "-k", "3", "--seed", "1", "--json"
    )
    assert code == 0, out
    picks = json.loads(out)
    assert len(picks["choices"]) == 3
    assert all(c["reason"].startswith("Shown ") for c in picks["choices"])


def test_select_bad_profile_names_the_field(tmp_path: Path) -> None:
    """A profile JSON without decision_style is refused with the field named."""
    bad = tmp_path / "p.json"
    bad.write_text(json.dumps({"words": 10, "interests": []}), encoding="utf-8")
    code, out, err = run("select", "--profile", str(bad))
    assert code == 1 and out == ""  # a bad input file: status 1, nothing on stdout
    assert "decision_style" in err and "Traceback" not in err


def test_select_with_the_device_store(tmp_path: Path) -> None:
    """Select without --profile uses the device's stored profile and records the picks."""
    home = tmp_path / "home"
    sample = tmp_path / "me.txt"
    sample.write_text(SAMPLE * 20, encoding="utf-8")
    code, _, err = run("store", "--dir", str(home), "observe", str(sample))
    assert code == 0, err
    code, out, err = run("select", "--dir", str(home), "-k", "2", "--seed", "3")
    assert code == 0, err
    assert out.count(": Shown ") == 2
    assert (home / "store.bin").is_file()


def test_ten_megabyte_file_profiles(tmp_path: Path) -> None:
    """A 10 MB text file is profiled without error (about 1.7 million words)."""
    big = tmp_path / "big.txt"
    sentence = "We measured the battery twice and compared the results carefully. "
    big.write_text(sentence * (10_000_000 // len(sentence)), encoding="utf-8")
    code, out, err = run("profile", "--json", str(big))
    assert code == 0, err
    assert json.loads(out)["words"] > 1_000_000


def test_command_of_a_missing_extra_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    """A command whose extra is not installed explains the install line instead of crashing."""
    from edge_client import cli

    monkeypatch.setitem(
        cli._LAZY_COMMANDS, "simulate", ("not_an_installed_module_xyz", "simulate", "federated")
    )
    code, _, err = run("simulate")
    assert code == 2
    assert "pip install 'edge-profiler[federated]'" in err


def test_missing_extra_is_detected_before_importing(monkeypatch: pytest.MonkeyPatch) -> None:
    """When a module of the extra is absent the command explains, without importing anything."""
    from edge_client import cli

    monkeypatch.setitem(cli._EXTRA_MODULES, "federated", ("not_an_installed_module_xyz",))
    code, _, err = run("deploy", "certs", "/tmp/never-written")
    assert code == 2
    assert "needs the 'federated' extra" in err and "not_an_installed_module_xyz" in err


@pytest.mark.parametrize("extra", [[], ["--json"], ["--json", "--explain"]])
def test_nothing_on_stdout_after_an_error(tmp_path: Path, extra: list[str]) -> None:
    """A missing file among good ones: errors on stderr, no (partial) profile, status 1."""
    good = tmp_path / "me.txt"
    good.write_text(SAMPLE, encoding="utf-8")
    code, out, err = run("profile", *extra, str(good), str(tmp_path / "missing.txt"))
    assert code == 1
    assert out == ""
    assert err == f"error: {tmp_path / 'missing.txt'}: no such file\n"


def test_too_long_text_names_the_file(tmp_path: Path) -> None:
    """A text over the character limit (but under the byte limit) is refused by file name."""
    from edge_client.profiler import MAX_TEXT_CHARS

    big = tmp_path / "huge.txt"
    big.write_bytes(b"a " * (MAX_TEXT_CHARS // 2 + 1))
    code, out, err = run("profile", "--json", str(big))
    assert code == 1 and out == ""
    assert err.startswith(f"error: {big}: {MAX_TEXT_CHARS + 2:,} characters, more than")


def test_policy_option_takes_a_preset_name(tmp_path: Path) -> None:
    """--policy research names the preset, as simulate's --policy does."""
    path = tmp_path / "me.txt"
    path.write_text(SAMPLE, encoding="utf-8")
    code, out, err = run("profile", "--policy", "research", "--json", str(path))
    assert code == 0 and err == "", err
    assert json.loads(out)["words"] == 26


def test_a_bad_policy_is_a_setup_error(tmp_path: Path) -> None:
    """--policy naming neither a preset nor a file is a usage error (status 2)."""
    path = tmp_path / "me.txt"
    path.write_text(SAMPLE, encoding="utf-8")
    code, out, err = run("profile", "--policy", "nope", str(path))
    assert code == 2 and out == ""
    assert "not a preset name" in err


def test_version_option_and_quiet_flag() -> None:
    """--version prints the package version; -q and -v are accepted before any command."""
    import edge_client

    code, out, _ = run("--version")
    assert code == 0 and edge_client.__version__ in out
    code, out, err = run("-q", "info")
    assert code == 0 and "runtime:" in out and err == ""


def _edgeprof(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the installed edgeprof in its own process (the runtime writes to descriptor 2)."""
    return subprocess.run(
        [str(Path(sys.executable).parent / "edgeprof"), *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


def test_quiet_by_default_complete_with_verbose() -> None:
    """A real process prints no log line by default; -v shows the runtime's own line."""
    sample = str(Path(__file__).resolve().parents[2] / "edge_client/assets/samples/posts.jsonl")
    quiet = _edgeprof("profile", "--jsonl", sample)
    assert quiet.returncode == 0 and quiet.stderr == ""
    verbose = _edgeprof("-v", "profile", "--jsonl", sample)
    assert verbose.returncode == 0 and verbose.stdout == quiet.stdout
    assert verbose.stderr.startswith("INFO edge_client.runtime: ")
