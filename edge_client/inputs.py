"""Reading user text from files and JSON lines, with errors that say what and where.

Nothing here raises a bare traceback on bad input: missing files, FIFOs and devices,
binary data, invalid UTF-8, oversized files and malformed JSON lines all become
:class:`InputError` (or a per-line :class:`LineError`) naming the file and line, never
quoting the text. Reading goes through the bounded decoders of :mod:`edge_client.decoding`:
a JSON line that is too deep, too long, holds a number out of range or a lone surrogate is
that line's error, and the lines after it are still read.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from edge_client.decoding import (
    DecodeError,
    Limits,
    decode_utf8,
    iter_json_lines,
    loads_json,
    open_regular,
    read_bounded,
    read_stream,
)
from edge_client.errors import InputError
from edge_client.profiler import MAX_TEXT_CHARS

__all__ = [
    "JSONL_LIMITS",
    "JSON_FILE_LIMITS",
    "MAX_FILE_BYTES",
    "MAX_JSONL_FILE_BYTES",
    "JsonlRecord",
    "LineError",
    "decode_text",
    "iter_jsonl",
    "read_json_file",
    "read_text_file",
]

MAX_FILE_BYTES = 4 * MAX_TEXT_CHARS
"""Largest file read at once (UTF-8 may take up to 4 bytes per character)."""

JSONL_LIMITS = Limits(max_bytes=MAX_FILE_BYTES + 1024, max_depth=16)
"""Bounds of one line of ``profile --jsonl`` input (a whole text fits on one line)."""

MAX_JSONL_FILE_BYTES = 4 * 1024**3
"""Largest JSON-lines file read (it is streamed line by line; this bounds the time)."""

JSON_FILE_LIMITS = Limits(max_bytes=16 * 1024 * 1024, max_depth=16)
"""Bounds of a JSON document read with :func:`read_json_file` (e.g. a profile)."""

_STDIN = "-"


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
        On a NUL byte (binary data) or invalid UTF-8, naming the line and byte offset.
    """
    return decode_utf8(data, source=source)


def _read_bytes(path: str) -> bytes:
    if path == _STDIN:
        return read_stream(sys.stdin.buffer, max_bytes=MAX_FILE_BYTES, source=path)
    return read_bounded(path, max_bytes=MAX_FILE_BYTES)


def read_text_file(path: str) -> str:
    """Read a whole UTF-8 text file (``-`` for standard input).

    Raises
    ------
    InputError
        If the file is missing, a directory, a FIFO or device, unreadable, too large (in bytes
        or in characters), binary or not UTF-8; the message names the file.
    """
    text = decode_text(_read_bytes(path), source=path)
    if len(text) > MAX_TEXT_CHARS:
        raise InputError(
            f"{path}: {len(text):,} characters, more than the {MAX_TEXT_CHARS:,} one text may "
            "have; split it into smaller files"
        )
    return text


def read_json_file(path: str, *, limits: Limits = JSON_FILE_LIMITS) -> object:
    """Read one JSON document from a file (``-`` for standard input), within bounds.

    Parameters
    ----------
    path : str
        The file.
    limits : Limits
        Size, depth and number bounds (default :data:`JSON_FILE_LIMITS`).

    Returns
    -------
    object
        The decoded value.

    Raises
    ------
    InputError
        If the file cannot be read (as :func:`read_text_file`) or is not JSON within the
        bounds (too deep, a number out of range, a repeated key, a lone surrogate), naming
        the file, line and field.
    """
    if path == _STDIN:
        data = read_stream(sys.stdin.buffer, max_bytes=limits.max_bytes, source=path)
    else:
        data = read_bounded(path, max_bytes=limits.max_bytes)
    return loads_json(data, source=path, limits=limits)


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


def _record(obj: object, line: int, where: str) -> JsonlRecord:
    """Check one decoded JSON line, raising :class:`InputError` naming file:line."""
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
    if isinstance(ident, dict | list):
        raise InputError(f"{where}: field 'id' must be a string or a number")
    return JsonlRecord(line, None if ident is None else str(ident), value)


def iter_jsonl(path: str) -> Iterator[JsonlRecord | LineError]:
    """Read JSON lines, each an object with a string field ``text`` (and optional ``id``).

    Blank lines are skipped. A bad line yields a :class:`LineError` and reading goes on;
    lines end at a newline only (a raw U+2028 inside a string does not end one).

    Raises
    ------
    InputError
        Only if the file itself cannot be opened (missing, a directory, a FIFO or device,
        larger than :data:`MAX_JSONL_FILE_BYTES`).
    """
    if path == _STDIN:
        yield from _iter_stream(sys.stdin.buffer, path)
        return
    fd = open_regular(path, max_bytes=MAX_JSONL_FILE_BYTES)
    with os.fdopen(fd, "rb") as handle:
        yield from _iter_stream(handle, path)


def _iter_stream(stream: BinaryIO, source: str) -> Iterator[JsonlRecord | LineError]:
    for number, value in iter_json_lines(stream, source=source, limits=JSONL_LIMITS):
        if isinstance(value, DecodeError):
            yield LineError(number, str(value))
            continue
        try:
            yield _record(value, number, f"{source}:{number}")
        except InputError as exc:
            yield LineError(number, str(exc))
