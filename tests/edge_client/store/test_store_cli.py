"""``edgeprof store``: show, export, forget, pause, resume and observe on a real data dir."""

from __future__ import annotations

import json
import logging
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from edge_client.store import FileKeyProvider
from edge_client.store.cli import DEFAULT_HOME, default_home, store
from edge_client.store.format import unseal

CANARY = "qvzcanaryc1i0b55e2"
TEXT = (
    "Before I chose the bike I read three reviews and compared the weight, the gears and "
    "the price of each model. The lighter frame was worth the extra cost in the tests."
)


def _files(data: Path) -> list[Path]:
    return sorted(p for p in data.rglob("*") if p.is_file()) if data.exists() else []


@pytest.fixture
def text_file(tmp_path: Path) -> Path:
    """A file of the person's own words."""
    path = tmp_path / "mine.txt"
    path.write_text(TEXT, encoding="utf-8")
    return path


def _run(data: Path, *args: str, input_text: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(store, ["--dir", str(data), *args], input=input_text)
    return result.exit_code, result.stdout, result.stderr


def test_show_on_a_new_device_writes_nothing(tmp_path: Path) -> None:
    """Show on an empty data dir says nothing is known and creates no file."""
    code, out, _ = _run(tmp_path / "data", "show")
    assert code == 0
    assert "Words observed: 0" in out and "consent given for: nothing" in out
    assert not (tmp_path / "data").exists()


def test_observe_then_show_and_export(tmp_path: Path, text_file: Path) -> None:
    """Observe opts in and profiles; show describes it; export is JSON of numbers, no text."""
    data = tmp_path / "data"
    code, out, _ = _run(data, "observe", str(text_file))
    assert code == 0 and "Words observed: 3" in out  # 32 words
    code, out, _ = _run(data, "show")
    assert code == 0 and "consent given for: profiling" in out and "Personalization: active" in out
    code, out, _ = _run(data, "export")
    document = json.loads(out)
    assert document["profile"]["counts"]["words"] > 30
    assert all(isinstance(k, int) for k in document["profile"]["counts"]["unigram_keys"])
    for word in ("bike", "gears", "lighter"):
        assert word not in out.lower()


def test_export_to_a_file_is_private(tmp_path: Path, text_file: Path) -> None:
    """Export --out writes the same JSON to a file readable by its owner only."""
    data, out_file = tmp_path / "data", tmp_path / "export.json"
    _run(data, "observe", str(text_file))
    code, out, err = _run(data, "export", "--out", str(out_file))
    assert code == 0 and err == "" and out == f"Exported to {out_file}.\n"  # like every command
    assert stat.S_IMODE(out_file.stat().st_mode) == 0o600
    assert json.loads(out_file.read_text(encoding="utf-8"))["consent"]["granted"] == ["profiling"]


def test_pause_stops_observe_until_resume(tmp_path: Path, text_file: Path) -> None:
    """While paused, observe exits 1 and records nothing; resume lets it profile again."""
    data = tmp_path / "data"
    _run(data, "observe", str(text_file))
    words = json.loads(_run(data, "export")[1])["profile"]["counts"]["words"]
    assert _run(data, "pause")[0] == 0
    code, _, err = _run(data, "observe", str(text_file))
    assert code == 1 and "paused" in err
    assert "Personalization: paused" in _run(data, "show")[1]
    paused_words = json.loads(_run(data, "export")[1])["profile"]["counts"]["words"]
    assert paused_words == pytest.approx(words, rel=1e-4)
    assert _run(data, "resume")[0] == 0
    assert _run(data, "observe", str(text_file))[0] == 0
    assert json.loads(_run(data, "export")[1])["profile"]["counts"]["words"] == pytest.approx(
        2 * words, rel=1e-4
    )


def test_forget_asks_first_and_then_leaves_no_file(tmp_path: Path, text_file: Path) -> None:
    """Forget without --yes keeps everything when refused; with --yes nothing is left."""
    data = tmp_path / "data"
    _run(data, "observe", str(text_file))
    code, _, _ = _run(data, "forget", input_text="n\n")
    assert code == 1 and (data / "store.bin").exists()
    code, out, _ = _run(data, "forget", "--yes")
    assert code == 0 and "Erased" in out
    assert _files(data) == []


def test_a_damaged_store_is_reported_and_the_command_carries_on(
    tmp_path: Path, text_file: Path
) -> None:
    """A flipped bit is reported on stderr; show still works from the last good state."""
    data = tmp_path / "data"
    _run(data, "observe", str(text_file))
    _run(data, "pause")
    blob = bytearray((data / "store.bin").read_bytes())
    blob[-3] ^= 0x01
    (data / "store.bin").write_bytes(bytes(blob))
    code, out, err = _run(data, "show")
    assert code == 0 and "set aside" in err and "last good state" in err
    assert "Personalization: active" in out  # the generation before the pause


def test_home_comes_from_the_environment_unless_dir_is_given(
    tmp_path: Path, text_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """EDGEPROF_HOME picks the data dir; without it the XDG-style default is used."""
    monkeypatch.setenv("EDGEPROF_HOME", str(tmp_path / "env-home"))
    assert default_home() == tmp_path / "env-home"
    result = CliRunner().invoke(store, ["observe", str(text_file)])
    assert result.exit_code == 0 and (tmp_path / "env-home" / "store.bin").exists()
    monkeypatch.delenv("EDGEPROF_HOME")
    assert default_home() == DEFAULT_HOME.expanduser()


def test_bad_input_file_exits_1_without_quoting_it(tmp_path: Path) -> None:
    """A missing or non-UTF-8 file is reported by name; the exit status is 1."""
    data, binary = tmp_path / "data", tmp_path / "bin.txt"
    binary.write_bytes(b"\xff\xfe\x00" + CANARY.encode() + b"\x00")
    code, _, err = _run(data, "observe", str(tmp_path / "missing.txt"), str(binary))
    assert code == 1 and "no such file" in err and CANARY not in err


def test_canary_observed_through_the_cli_is_in_no_file_and_no_log(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A canary in observed text is in no file, no decrypted payload, no output, no log."""
    caplog.set_level(logging.DEBUG)
    data, source = tmp_path / "data", tmp_path / "secret.txt"
    source.write_text(f"{TEXT} My code word is {CANARY}. {CANARY}!", encoding="utf-8")
    outputs = [_run(data, "observe", str(source)), _run(data, "show", "--explain")]
    outputs += [_run(data, "export"), _run(data, "pause"), _run(data, "resume")]
    assert all(code == 0 for code, _, _ in outputs)
    key = FileKeyProvider(data / "store.bin.key", create=False).load_key()
    for path in _files(data):
        assert CANARY.encode() not in path.read_bytes()
        if path.name in ("store.bin", "store.bin.prev"):
            sections = unseal(path.read_bytes(), key=key, path=path).sections
            assert CANARY not in json.dumps(sections, default=repr)
    assert all(CANARY not in out + err for _, out, err in outputs)
    assert caplog.records
    assert CANARY not in "\n".join(record.getMessage() for record in caplog.records)


def test_a_change_that_cannot_be_saved_is_a_non_zero_exit(tmp_path: Path, text_file: Path) -> None:
    """With a key that cannot read the store, observe/pause/resume say NOT saved and exit 1."""
    data = tmp_path / "data"
    assert _run(data, "observe", str(text_file))[0] == 0
    key = data / "store.bin.key"
    key.unlink()
    FileKeyProvider(key).load_key()  # another key: the store can no longer be read
    before = (data / "store.bin").read_bytes()
    for args in (("observe", str(text_file)), ("pause",), ("resume",)):
        code, out, err = _run(data, *args)
        assert code == 1, args
        assert "NOT saved" in out and "was not saved" in err
    assert (data / "store.bin").read_bytes() == before  # what could not be read is kept
