"""Hostile inputs for the fuzz tests and the hardening report: seeds, mutations, named cases.

Every input kind the project reads from outside (JSON lines, text, catalogs, profile JSON,
policy TOML, policy bundles, trust stores, keys, model bundles, store payloads, checkpoints,
taxonomies) has valid seeds made here; :func:`mutate` turns a seed into a hostile variant
(byte flips, truncation, nasty tokens, huge numbers, deep nesting, lone surrogates, U+2028,
structural replacements inside JSON and msgpack), and :data:`NAMED` lists the classes of
input the hardening issue named, so the report measures each of them by name. Deterministic
for a given ``random.Random``. Not a public API.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from typing import Any

import msgpack

__all__ = [
    "NASTY_TOKENS",
    "NASTY_VALUES",
    "mutate",
    "mutate_json",
    "mutate_msgpack",
    "mutate_text",
]

NASTY_TOKENS: tuple[bytes, ...] = (
    b"[" * 5000,
    b"{" * 3000,
    b"9" * 5000,
    b"1e400",
    b"-1e400",
    b"NaN",
    b"Infinity",
    b'"\\ud800"',
    b"\\udc00",
    "\u2028".encode(),
    "\u2029".encode(),
    b"\x00",
    b"\xff\xfe",
    b"\xc3",
    b'"',
    b"\n",
    b"\r",
    b"'''",
    b'"""',
    b"= = =",
    b"a" + b".a" * 3000,
    b"#",
    b"\xef\xbb\xbf",
    b"-0",
    b"18446744073709551616",
)
"""Byte strings inserted at random places."""


def _nested_list(depth: int) -> object:
    value: object = 1
    for _ in range(depth):
        value = [value]
    return value


def _nested_dict(depth: int) -> object:
    value: object = {}
    for _ in range(depth):
        value = {"k": value}
    return value


NASTY_VALUES: tuple[object, ...] = (
    None,
    True,
    -1,
    0,
    2**63,
    2**64,
    -(2**63) - 1,
    10**30,
    1e308,
    -1e308,
    float("nan"),
    float("inf"),
    "",
    "x" * 5000,
    "\ud800",
    "a\u2028b",
    [],
    {},
    _nested_list(40),
    _nested_dict(12),
    b"\x00\x01",
    [1, "a", None],
)
"""Values put in place of a field by the structural mutations."""


def _flip(data: bytes, at: int, rng: random.Random) -> bytes:
    index = min(at, len(data) - 1)
    return data[:index] + bytes([data[index] ^ (1 << rng.randrange(8))]) + data[index + 1 :]


def _duplicate(data: bytes, at: int, rng: random.Random) -> bytes:
    end = min(len(data), at + rng.randrange(1, 64))
    return data[:end] + data[at:end] + data[end:]


def _huge_number(data: bytes, at: int, rng: random.Random) -> bytes:
    start = next((i for i in range(at, len(data)) if chr(data[i]).isdigit()), None)
    if start is None:
        return data + b"9" * 400
    end = start
    while end < len(data) and chr(data[end]).isdigit():
        end += 1
    return data[:start] + rng.choice((b"9" * 400, b"1e400", b"-" + b"9" * 30)) + data[end:]


_BYTE_MUTATIONS: tuple[Callable[[bytes, int, random.Random], bytes], ...] = (
    _flip,
    lambda data, at, rng: data[:at],  # truncate
    _duplicate,
    _huge_number,
    lambda data, at, rng: data[:at] + data[at + rng.randrange(1, 32) :],  # delete a slice
    lambda data, at, rng: data[:at] + rng.choice(NASTY_TOKENS) + data[at:],  # insert a token
)


def _byte_mutation(data: bytes, rng: random.Random) -> bytes:
    if not data:
        return rng.choice(NASTY_TOKENS)
    return rng.choice(_BYTE_MUTATIONS)(data, rng.randrange(len(data) + 1), rng)


def _replace_somewhere(value: Any, rng: random.Random, depth: int = 0) -> Any:
    """Return ``value`` with one nested field (or item) replaced by a nasty value."""
    if isinstance(value, dict) and value and depth < 6:
        key = rng.choice(list(value))
        copy = dict(value)
        if rng.random() < 0.4:
            copy[key] = rng.choice(NASTY_VALUES)
        elif rng.random() < 0.1:
            del copy[key]
        else:
            copy[key] = _replace_somewhere(value[key], rng, depth + 1)
        return copy
    if isinstance(value, list) and value and depth < 6:
        index = rng.randrange(len(value))
        copy_list = list(value)
        copy_list[index] = _replace_somewhere(value[index], rng, depth + 1)
        return copy_list
    return rng.choice(NASTY_VALUES)


def _to_json(value: Any) -> bytes:
    def default(obj: object) -> object:
        return obj.hex() if isinstance(obj, bytes) else str(obj)

    text = json.dumps(value, default=default, ensure_ascii=False)
    return text.encode("utf-8", "surrogatepass")


def mutate_json(data: bytes, rng: random.Random) -> bytes:
    """Return a hostile variant of a JSON document (structural or byte-level)."""
    if rng.random() < 0.5:
        try:
            return _to_json(_replace_somewhere(json.loads(data), rng))
        except (ValueError, RecursionError):  # the seed is already broken: mutate its bytes
            pass
    if rng.random() < 0.1:
        depth = rng.choice((40, 2000, 100_000))
        return b"[" * depth + data + b"]" * depth
    return _byte_mutation(data, rng)


def mutate_msgpack(data: bytes, rng: random.Random) -> bytes:
    """Return a hostile variant of a msgpack payload (structural or byte-level)."""
    if rng.random() < 0.6:
        try:
            value = msgpack.unpackb(data, raw=False, strict_map_key=False)
            return bytes(
                msgpack.packb(_replace_somewhere(value, rng), use_bin_type=True, strict_types=False)
            )
        except (ValueError, TypeError, OverflowError, RecursionError, msgpack.UnpackException):
            pass
    if rng.random() < 0.1:
        return b"\x91" * rng.choice((40, 2000, 100_000)) + b"\x00"
    return _byte_mutation(data, rng)


def mutate_text(data: bytes, rng: random.Random) -> bytes:
    """Return a hostile variant of a text document (TOML, PEM, plain text)."""
    if rng.random() < 0.3:  # a line's value replaced by something absurd
        lines = data.split(b"\n")
        index = rng.randrange(len(lines))
        key, sep, _ = lines[index].partition(b"=")
        if sep:
            value = rng.choice(
                (
                    b"1000000000",
                    b"1e400",
                    b"-1",
                    b"9" * 400,
                    b"1.7e308",
                    b"1e-300",
                    b"nan",
                    b'"\\ud800"',
                    b"[" * 50,
                    b"true",
                    b'"x"',
                    b"2e9",
                    b"99999999999999999999",
                )
            )
            lines[index] = key + b"= " + value
            return b"\n".join(lines)
    return _byte_mutation(data, rng)


def mutate(kind_format: str, data: bytes, rng: random.Random) -> bytes:
    """Return a hostile variant of ``data`` for its format (``json``, ``msgpack``, ``text``).

    Parameters
    ----------
    kind_format : str
        How the input is encoded.
    data : bytes
        A valid seed.
    rng : random.Random
        The source of randomness (seed it for a reproducible corpus).

    Returns
    -------
    bytes
        The hostile variant (one to three mutations stacked).
    """
    mutators: dict[str, Callable[[bytes, random.Random], bytes]] = {
        "json": mutate_json,
        "jsonl": _mutate_lines,
        "msgpack": mutate_msgpack,
        "text": mutate_text,
    }
    out = data
    for _ in range(rng.choice((1, 1, 2, 3))):
        out = mutators[kind_format](out, rng)
    return out


def _mutate_lines(data: bytes, rng: random.Random) -> bytes:
    lines = data.split(b"\n")
    index = rng.randrange(len(lines))
    lines[index] = mutate_json(lines[index], rng)
    return b"\n".join(lines)
