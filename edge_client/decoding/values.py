"""The checks every decoded value passes: depth, integer range, finite floats, valid text.

:func:`check_tree` walks a decoded document without recursion (a msgpack payload may nest
deeper than Python's recursion limit) and raises :class:`DecodeError` naming the field path
of the first value out of bounds.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

from edge_client.decoding.errors import DecodeError, show_key
from edge_client.decoding.limits import Limits

__all__ = ["check_tree", "valid_text"]

_SCALARS = (type(None), bool, bytes)


def valid_text(value: str) -> bool:
    """Return whether ``value`` can be encoded as UTF-8 (holds no lone surrogate)."""
    if value.isascii():
        return True
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _join(path: str, part: str) -> str:
    if part.startswith("["):
        return f"{path}{part}"
    return f"{path}.{part}" if path else part


def _children(
    value: dict[object, object] | list[object], path: str
) -> Iterator[tuple[str, object]]:
    if isinstance(value, dict):
        for position, (key, item) in enumerate(value.items()):
            yield _join(path, show_key(key, position)), key
            yield _join(path, show_key(key, position)), item
    else:
        for position, item in enumerate(value):
            yield _join(path, f"[{position}]"), item


def _check_scalar(
    value: object,
    path: str,
    limits: Limits,
    where: tuple[str, int | None, tuple[type, ...]],
) -> None:
    source, line, extra = where

    def fail(problem: str) -> DecodeError:
        return DecodeError(source, problem, line=line, field=path or None)

    if isinstance(value, _SCALARS) or (extra and isinstance(value, extra)):
        return
    if isinstance(value, int):
        if abs(value) > limits.max_int:
            raise fail(f"integer out of range (at most ±{limits.max_int:,})")
    elif isinstance(value, float):
        if not limits.allow_non_finite and not math.isfinite(value):
            raise fail("number is not finite (inf or nan)")
    elif isinstance(value, str):
        if not valid_text(value):
            raise fail("text holds a lone surrogate (not valid Unicode)")
    else:
        raise fail(f"unsupported value of type {type(value).__name__}")


def check_tree(
    value: object,
    limits: Limits,
    *,
    source: str,
    line: int | None = None,
    extra_scalars: tuple[type, ...] = (),
) -> None:
    """Check a decoded document against ``limits``.

    Parameters
    ----------
    value : object
        Built from ``dict``, ``list``, ``str``, ``int``, ``float``, ``bool``, ``bytes`` and
        ``None``; anything else (an extension type, a date) is refused.
    limits : Limits
        Depth, integer and float bounds.
    source : str
        Name used in messages.
    line : int, optional
        Line of the input, for the message.
    extra_scalars : tuple of type
        Further leaf types accepted as they are (TOML dates and times).

    Raises
    ------
    DecodeError
        For nesting deeper than ``limits.max_depth``, a mapping key that is not text, an
        integer beyond ``limits.max_int``,
        a non-finite float (unless allowed), a string with a lone surrogate, or a value of
        another type; the message names the field path.
    """
    stack: list[tuple[object, str, int]] = [(value, "", 0)]
    while stack:
        item, path, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth >= limits.max_depth:
                raise DecodeError(
                    source,
                    f"nested deeper than {limits.max_depth} levels",
                    line=line,
                    field=path or None,
                )
            if isinstance(item, dict) and not all(isinstance(key, str) for key in item):
                raise DecodeError(source, "a map key is not text", line=line, field=path or None)
            stack.extend((child, where, depth + 1) for where, child in _children(item, path))
        else:
            _check_scalar(item, path, limits, (source, line, extra_scalars))
