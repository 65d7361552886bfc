"""Bounded TOML: size, nesting depth and dotted-key length checked before ``tomllib`` runs.

``tomllib`` recurses into nested arrays and inline tables (a ``RecursionError`` past about
a thousand levels) and takes time and memory quadratic in the parts of one dotted key
(16,000 parts: 8 s and 1 GB). Both are measured on the source with strings and comments
blanked before it is parsed.
"""

from __future__ import annotations

import datetime
import re
import sys
from typing import Any

from edge_client.decoding.depth import bracket_depth
from edge_client.decoding.errors import DecodeError
from edge_client.decoding.limits import Limits
from edge_client.decoding.text import decode_utf8
from edge_client.decoding.values import check_tree

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10 only
    import tomli as tomllib

__all__ = ["loads_toml"]

# Multi-line strings, one-line strings and comments: their brackets and dots never count.
_SKIP = re.compile(
    rb'"""(?:[^"\\]|\\.|"(?!""))*"""'
    rb"|'''.*?'''"
    rb'|"[^"\\\n]*(?:\\.[^"\\\n]*)*"'
    rb"|'[^'\n]*'"
    rb"|#[^\n]*",
    re.S,
)
_DATES = (datetime.datetime, datetime.date, datetime.time)
_LINE = re.compile(r"at line (\d+)")


def _long_key(code: bytes, segments: int) -> re.Match[bytes] | None:
    # ``segments`` dot-joined parts in a row (blanked strings may be quoted key parts).
    pattern = re.compile(rb"(?:\.[ \t]*[\w\-\"]*[ \t]*){%d,}" % segments)
    return pattern.search(_SKIP.sub(b'""', code))


def loads_toml(data: bytes | str, *, source: str, limits: Limits) -> dict[str, Any]:
    """Decode a TOML document within ``limits``.

    Parameters
    ----------
    data : bytes or str
        The document (bytes must be UTF-8).
    source : str
        Name used in messages.
    limits : Limits
        Size, depth, dotted-key and integer bounds (TOML ``inf``/``nan`` pass only with
        ``allow_non_finite``).

    Returns
    -------
    dict[str, Any]
        The tables.

    Raises
    ------
    DecodeError
        When the document is too large, too deep, has too long a dotted key, is not UTF-8,
        not valid TOML, or holds a value out of bounds; naming the line or the field.
    """
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    if len(raw) > limits.max_bytes:
        raise DecodeError(source, f"larger than the {limits.max_bytes:,}-byte limit")
    text = data if isinstance(data, str) else decode_utf8(raw, source=source)
    if bracket_depth(raw, _SKIP) > limits.max_depth:
        raise DecodeError(source, f"nested deeper than {limits.max_depth} levels")
    long_key = _long_key(raw, limits.max_key_segments)
    if long_key is not None:
        raise DecodeError(
            source,
            f"a dotted key has more than {limits.max_key_segments} parts",
            line=raw.count(b"\n", 0, long_key.start()) + 1,
        )
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        found = _LINE.search(str(exc))
        message = str(exc).split(" (at ", 1)[0]
        raise DecodeError(
            source, f"not valid TOML: {message}", line=int(found.group(1)) if found else None
        ) from None
    except ValueError:  # an integer of more than 4,300 digits, which int() refuses
        raise DecodeError(source, "not valid TOML: a number is far out of range") from None
    check_tree(document, limits, source=source, extra_scalars=_DATES)
    return document
