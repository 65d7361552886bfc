"""Bounded JSON: documents and JSON lines, refused cleanly when hostile.

Before :func:`json.loads` runs, the input's size and nesting depth are checked on the raw
bytes; while it runs, integers with more digits than the bound are refused before they are
converted, floats must be finite (``1e400`` is not), ``NaN``/``Infinity`` are refused and a
key repeated in one object is refused; afterwards every string is checked for lone
surrogates (an escaped ``ud800`` without its pair). JSON lines are split on a newline only,
so a raw U+2028 inside a string never splits a line, and each line is bounded on its own:
one bad line is reported with its number and the next one is read.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from typing import BinaryIO

from edge_client.decoding.depth import bracket_depth
from edge_client.decoding.errors import DecodeError
from edge_client.decoding.limits import Limits
from edge_client.decoding.text import decode_utf8
from edge_client.decoding.values import check_tree

__all__ = ["iter_json_lines", "loads_json"]

_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.S)
_SKIP_CHUNK = 1 << 16


class _RefusedError(Exception):
    """Raised inside json's hooks; turned into a located DecodeError by the caller."""


def _hooks(limits: Limits) -> dict[str, object]:
    digits = limits.max_int_digits

    def parse_int(text: str) -> int:
        if len(text.lstrip("-")) > digits:
            raise _RefusedError(f"integer with more than {digits} digits")
        value = int(text)
        if abs(value) > limits.max_int:
            raise _RefusedError(f"integer out of range (at most ±{limits.max_int:,})")
        return value

    def parse_float(text: str) -> float:
        value = float(text)
        if not (limits.allow_non_finite or math.isfinite(value)):
            raise _RefusedError("number too large to be a finite float")
        return value

    def parse_constant(name: str) -> float:
        if limits.allow_non_finite:  # Python's own json writes NaN and Infinity
            return float(name)
        raise _RefusedError(f"{name} is not a JSON number")

    def pairs(items: list[tuple[str, object]]) -> dict[str, object]:
        out = dict(items)
        if len(out) != len(items):
            raise _RefusedError("a key appears twice in one object")
        return out

    return {
        "parse_int": parse_int,
        "parse_float": parse_float,
        "parse_constant": parse_constant,
        "object_pairs_hook": pairs,
    }


def loads_json(
    data: bytes | str, *, source: str, limits: Limits, line: int | None = None
) -> object:
    """Decode one JSON document within ``limits``.

    Parameters
    ----------
    data : bytes or str
        The document (bytes must be UTF-8; a byte-order mark is dropped).
    source : str
        Name used in messages.
    limits : Limits
        Size, depth and integer bounds; ``NaN``, ``Infinity`` and ``1e400`` are refused
        unless ``allow_non_finite`` (for files Python's own ``json`` wrote).
    line : int, optional
        Line of a JSON-lines file the document is on; messages then name that line.

    Returns
    -------
    object
        The decoded value (``dict``, ``list``, ``str``, ``int``, ``float``, ``bool`` or
        ``None``).

    Raises
    ------
    DecodeError
        When the input is too large or too deep, not UTF-8, not valid JSON, holds a number
        out of range, a repeated key or a lone surrogate; naming the line and field.
    """
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    if len(raw) > limits.max_bytes:
        raise DecodeError(source, f"larger than the {limits.max_bytes:,}-byte limit", line=line)
    if bracket_depth(raw, _STRING) > limits.max_depth:
        raise DecodeError(source, f"nested deeper than {limits.max_depth} levels", line=line)
    try:
        text = data if isinstance(data, str) else decode_utf8(raw, source=source, allow_nul=True)
    except DecodeError as exc:
        where = line if line is not None else exc.line
        raise DecodeError(source, exc.problem, line=where) from None
    try:
        value = json.loads(text, **_hooks(limits))  # type: ignore[arg-type]  # hooks typed loosely
    except _RefusedError as exc:
        raise DecodeError(source, str(exc), line=line) from None
    except json.JSONDecodeError as exc:
        where = line if line is not None else exc.lineno
        raise DecodeError(
            source, f"not valid JSON ({exc.msg} at column {exc.colno})", line=where
        ) from None
    check_tree(value, limits, source=source, line=line)
    return value


def _skip_rest_of_line(stream: BinaryIO) -> None:
    while chunk := stream.readline(_SKIP_CHUNK):
        if chunk.endswith(b"\n"):
            return


def iter_json_lines(
    stream: BinaryIO, *, source: str, limits: Limits, comments: bool = False
) -> Iterator[tuple[int, object | DecodeError]]:
    """Decode a stream of JSON lines, one bounded document per line.

    Parameters
    ----------
    stream : BinaryIO
        Opened in binary mode (lines end at a newline only).
    source : str
        Name used in messages.
    limits : Limits
        Bounds for each line (``max_bytes`` is the longest line).
    comments : bool
        Skip lines whose first non-blank character is ``#``.

    Yields
    ------
    tuple of (int, object or DecodeError)
        The line number and its value, or the error that line raised; blank lines are
        skipped and reading always goes on with the next line.
    """
    number = 0
    while raw := stream.readline(limits.max_bytes + 1):
        number += 1
        if len(raw) > limits.max_bytes and not raw.endswith(b"\n"):
            _skip_rest_of_line(stream)
            yield (
                number,
                DecodeError(
                    source, f"line longer than the {limits.max_bytes:,}-byte limit", line=number
                ),
            )
            continue
        content = raw.rstrip(b"\n").rstrip(b"\r")
        stripped = content.strip()
        if not stripped or (comments and stripped.startswith(b"#")):
            continue
        try:
            yield number, loads_json(content, source=source, limits=limits, line=number)
        except DecodeError as exc:
            yield number, exc
