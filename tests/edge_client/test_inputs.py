"""Tests of file and JSON-lines reading: every bad input is a clear error with a location."""

from __future__ import annotations

from pathlib import Path

import pytest

from edge_client.errors import InputError
from edge_client.inputs import JsonlRecord, LineError, decode_text, iter_jsonl, read_text_file


def test_binary_and_non_utf8_are_refused_with_offsets(tmp_path: Path) -> None:
    """NUL bytes and invalid UTF-8 name the file and the byte offset."""
    binary = tmp_path / "a.bin"
    binary.write_bytes(b"abc\x00def")
    with pytest.raises(InputError, match=r"a\.bin: looks like binary data \(NUL byte at offset 3"):
        read_text_file(str(binary))
    latin = tmp_path / "latin.txt"
    latin.write_bytes("caf\u00e9".encode("latin-1"))
    with pytest.raises(InputError, match=r"not valid UTF-8 \(byte 0xe9 at offset 3\)"):
        read_text_file(str(latin))


def test_missing_file_and_directory(tmp_path: Path) -> None:
    """A missing path and a directory are each named."""
    with pytest.raises(InputError, match="no such file"):
        read_text_file(str(tmp_path / "nope.txt"))
    with pytest.raises(InputError, match="is a directory"):
        read_text_file(str(tmp_path))


def test_bom_is_dropped() -> None:
    """A UTF-8 byte-order mark is not part of the text."""
    assert decode_text(b"\xef\xbb\xbfhello", source="x") == "hello"


def test_jsonl_reports_each_bad_line_and_goes_on(tmp_path: Path) -> None:
    """Bad lines become LineErrors with their numbers; good lines still come through."""
    path = tmp_path / "in.jsonl"
    path.write_bytes(
        b'{"text": "first"}\n'
        b"not json\n"
        b'{"txt": "typo"}\n'
        b'{"text": 42}\n'
        b"[1, 2]\n"
        b"\n"
        b'{"text": "caf\xe9"}\n'
        b'{"id": 7, "text": "last"}\n'
    )
    out = list(iter_jsonl(str(path)))
    good = [r for r in out if isinstance(r, JsonlRecord)]
    bad = [r for r in out if isinstance(r, LineError)]
    assert [(r.line, r.text) for r in good] == [(1, "first"), (8, "last")]
    assert good[1].id == "7"
    assert [e.line for e in bad] == [2, 3, 4, 5, 7]
    assert "not valid JSON" in bad[0].message
    assert "missing field 'text'" in bad[1].message
    assert "must be a string" in bad[2].message
    assert "expected a JSON object" in bad[3].message
    assert "UTF-8" in bad[4].message
    assert all(f"in.jsonl:{e.line}" in e.message for e in bad)
