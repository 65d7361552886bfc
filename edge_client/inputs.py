"""Reading user text from files and JSON lines, with errors that say what and where.

Nothing here raises a bare traceback on bad input: missing files, binary data, invalid
UTF-8, oversized files and malformed JSON lines all become :class:`InputError` (or a
per-line :class:`LineError`) naming the file and line, never quoting the text.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from edge_client.errors import InputError
from edge_client.profiler import MAX_TEXT_CHARS

__all__ = ["JsonlRecord", "LineError", "decode_text", "iter_jsonl", "read_text_file"]

MAX_FILE_BYTES = 4 * MAX_TEXT_CHARS
"""Largest file read at once (UTF-8 may take up to 4 bytes per character)."""


def decode_text(data: bytes, *, source: str) -> str:
    """Decode bytes as UTF-8 text, refusing binary data.

    Parameters
    ----------
    data : bytes
        Raw bytes.
    source : str
        Where they came from, for the error message.

    Returns
    -------
    str
        The text (a leading byte-order mark is dropped).

    Raises
    ------
    InputError
        On a NUL byte (binary data) or invalid UTF-8, naming the byte offset.
    """
    nul = data.find(b"\x00")
    if nul >= 0:
        raise InputError(
            f"{source}: looks like binary data (NUL byte at offset {nul}); expected UTF-8 text"
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{source}: not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
            "convert the file to UTF-8"
        ) from None
    return text.removeprefix("\ufeff")


def _read_bytes(path: str) -> bytes:
    if path == "-":
        data = sys.stdin.buffer.read(MAX_FILE_BYTES + 1)
    else:
        p = Path(path)
        if not p.exists():
            raise InputError(f"{path}: no such file")
        if p.is_dir():
            raise InputError(f"{path}: is a directory, expected a text file")
        try:
            with p.open("rb") as handle:
                data = handle.read(MAX_FILE_BYTES + 1)
        except OSError as exc:
            raise InputError(f"{path}: cannot read ({exc.strerror})") from None
    if len(data) > MAX_FILE_BYTES:
        raise InputError(
            f"{path}: larger than {MAX_FILE_BYTES:,} bytes; split it into smaller files"
        )
    return data


def read_text_file(path: str) -> str:
    """Read a whole UTF-8 text file (``-`` for standard input).

    Raises
    ------
    InputError
        If the file is missing, a directory, unreadable, too large (in bytes or in
        characters), binary or not UTF-8; the message names the file.
    """
    text = decode_text(_read_bytes(path), source=path)
    if len(text) > MAX_TEXT_CHARS:
        raise InputError(
            f"{path}: {len(text):,} characters, more than the {MAX_TEXT_CHARS:,} one text may "
            "have; split it into smaller files"
        )
    return text


@dataclass(frozen=True)
class JsonlRecord:
    """One good JSON line: its line number, optional ``id`` and its ``text``."""

    line: int
    id: str | None
    text: str


@dataclass(frozen=True)
class LineError:
    """One bad JSON line: its line number and what is wrong with it."""

    line: int
    message: str


def _parse_line(raw: bytes, line: int, source: str) -> JsonlRecord | LineError:
    try:
        return _record(raw, line, f"{source}:{line}")
    except InputError as exc:
        return LineError(line, str(exc))


def _record(raw: bytes, line: int, where: str) -> JsonlRecord:
    """Parse one JSON line into a record, raising :class:`InputError` naming file:line."""
    try:
        obj = json.loads(decode_text(raw, source=where))
    except json.JSONDecodeError as exc:
        raise InputError(f"{where}: not valid JSON ({exc.msg} at column {exc.colno})") from None
    if not isinstance(obj, dict):
        raise InputError(f"{where}: expected a JSON object, got {type(obj).__name__}")
    if "text" not in obj:
        raise InputError(f"{where}: missing field 'text'")
    value = obj["text"]
    if not isinstance(value, str):
        raise InputError(f"{where}: field 'text' must be a string, got {type(value).__name__}")
    if len(value) > MAX_TEXT_CHARS:
        raise InputError(f"{where}: field 'text' longer than {MAX_TEXT_CHARS:,} characters")
    ident = obj.get("id")
    return JsonlRecord(line, None if ident is None else str(ident), value)


def iter_jsonl(path: str) -> Iterator[JsonlRecord | LineError]:
    """Read JSON lines, each an object with a string field ``text`` (and optional ``id``).

    Blank lines are skipped. A bad line yields a :class:`LineError` and reading goes on.

    Raises
    ------
    InputError
        Only if the file itself cannot be opened.
    """
    if path == "-":
        yield from _iter_stream(sys.stdin.buffer, path)
        return
    p = Path(path)
    if not p.is_file():
        raise InputError(f"{path}: no such file" if not p.exists() else f"{path}: not a file")
    try:
        handle = p.open("rb")
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror})") from None
    with handle:
        yield from _iter_stream(handle, path)


def _iter_stream(stream: BinaryIO, source: str) -> Iterator[JsonlRecord | LineError]:
    for number, raw in enumerate(stream, start=1):
        if not raw.strip():
            continue
        yield _parse_line(raw.rstrip(b"\r\n"), number, source)
