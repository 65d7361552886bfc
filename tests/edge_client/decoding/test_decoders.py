"""The bounded decoders: each hostile input class is the project's error, naming where."""

from __future__ import annotations

import io
import os
import re
from pathlib import Path

import msgpack
import pytest

from edge_client.decoding import (
    DecodeError,
    Limits,
    iter_json_lines,
    loads_json,
    loads_toml,
    read_bounded,
    unpack_msgpack,
)
from edge_client.errors import InputError

JSON = Limits(max_bytes=1 << 20, max_depth=16)
TOML = Limits(max_bytes=1 << 18, max_depth=8, allow_non_finite=True)
MSGPACK = Limits(max_bytes=1 << 20, max_depth=32, allow_non_finite=True)


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b'{"a":' + b"[" * 100_000 + b"]" * 100_000 + b"}", "nested deeper than 16 levels"),
        (b'{"a":' + b"9" * 5000 + b"}", "integer with more than 19 digits"),
        (b'{"a":99999999999999999999}', "integer with more than 19 digits"),
        (b'{"a":9223372036854775808}', "integer out of range"),
        (b'{"a":1e400}', "too large to be a finite float"),
        (b'{"a":NaN}', "NaN is not a JSON number"),
        (b'{"a":-Infinity}', "-Infinity is not a JSON number"),
        (b'{"a":1,"a":2}', "a key appears twice"),
        (b'{"text":"a\\ud800b"}', "field 'text': text holds a lone surrogate"),
        (b'{"a":"caf\xe9"}', "not valid UTF-8 (byte 0xe9 at offset 9)"),
        (b'{"a":', "not valid JSON"),
    ],
)
def test_hostile_json_is_a_located_error(data: bytes, problem: str) -> None:
    """Deep nesting, huge numbers, NaN, repeated keys, surrogates, bad UTF-8: clean errors."""
    with pytest.raises(DecodeError, match=r"f\.jsonl:7: ") as caught:
        loads_json(data, source="f.jsonl", limits=JSON, line=7)
    assert problem in str(caught.value)
    assert isinstance(caught.value, InputError)


def test_good_json_passes_and_brackets_in_strings_do_not_count() -> None:
    """Brackets inside strings are text, escaped pairs are fine, U+2028 stays in the string."""
    deep_text = '{"a": "' + "[" * 1000 + '", "b": "\\ud83d\\ude00", "c": "x\u2028y"}'
    value = loads_json(deep_text.encode(), source="s", limits=JSON)
    assert value == {"a": "[" * 1000, "b": "\U0001f600", "c": "x\u2028y"}


def test_json_lines_split_on_newline_only_and_go_on_after_a_bad_line() -> None:
    """A raw U+2028 does not end a line; a too long or too deep line is an error, then the next."""
    stream = io.BytesIO(
        b'{"a": 1}\n'
        + b"x" * 3000
        + b"\n"
        + '{"b": "one\u2028two"}\n'.encode()
        + b"\n# a comment\n"
        + b"[" * 50
        + b"\n"
        + b'{"c": 3}'
    )
    out = list(iter_json_lines(stream, source="in", limits=JSON.with_bytes(1000), comments=True))
    assert [n for n, _ in out] == [1, 2, 3, 6, 7]
    assert out[0][1] == {"a": 1}
    assert isinstance(out[1][1], DecodeError) and "longer than the 1,000-byte limit" in str(
        out[1][1]
    )
    assert out[2][1] == {"b": "one\u2028two"}
    assert isinstance(out[3][1], DecodeError) and out[3][1].line == 6
    assert out[4][1] == {"c": 3}


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("a" + ".a" * 100_000 + " = 1", "a dotted key has more than 8 parts"),
        ("a = " + "[" * 1000 + "]" * 1000, "nested deeper than 8 levels"),
        ("a = " + "{b=" * 500 + "1" + "}" * 500, "nested deeper than 8 levels"),
        ("a = " + "9" * 5000, "a number is far out of range"),
        ("a = 99999999999999999999", "field 'a': integer out of range"),
        ("a = = 1", "not valid TOML"),
    ],
)
def test_hostile_toml_is_refused_before_tomllib_goes_deep(text: str, problem: str) -> None:
    """Deep arrays, long dotted keys and huge integers are refused before tomllib runs.

    tomllib recurses into nested arrays and is quadratic in a dotted key's parts (16,000
    parts took 1 GB), so both are measured on the source first.
    """
    with pytest.raises(DecodeError, match=r"p\.toml") as caught:
        loads_toml(text, source="p.toml", limits=TOML)
    assert problem in str(caught.value)  # the pre-scan's words: tomllib never ran


def test_toml_strings_and_comments_do_not_count_towards_depth() -> None:
    """Brackets and dots in strings or comments are not structure."""
    doc = loads_toml(
        '[t]\nx.y.z = 1.5\ns = "[[[[[[[[[[[[.a.b.c.d.e.f.g.h.i.j"\n'
        "# [[[[[[[[[[[[[ a.b.c.d.e.f.g.h.i\nd = 1979-05-27\n",
        source="p.toml",
        limits=TOML,
    )
    assert doc["t"]["x"]["y"]["z"] == 1.5


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"\x91" * 100_000 + b"\x00", "not valid msgpack"),
        (b"\x91" * 40 + b"\x00", "nested deeper than 32 levels"),
        (b"\xdd\xff\xff\xff\xff", "not valid msgpack"),
        (b"\xc7\x01\x05a", "extension type 5 is not accepted"),
        (msgpack.packb(msgpack.Timestamp(1, 0)), "unsupported value of type Timestamp"),
        (b"\x00\x00", "extra bytes after the value"),
        (b"\xa2\xff\xfe", "not valid msgpack (UnicodeDecodeError)"),
        (b"\x81\xc4\x01k\x01", "a map key is not text"),
    ],
)
def test_hostile_msgpack_is_refused(data: bytes, problem: str) -> None:
    """Deep nesting, huge claimed lengths, extension types, trailing bytes, bad text."""
    with pytest.raises(DecodeError) as caught:
        unpack_msgpack(data, source="payload", limits=MSGPACK)
    assert problem in str(caught.value)


def test_size_bounds_apply_before_decoding() -> None:
    """Every decoder refuses input beyond its byte bound without parsing it."""
    small = Limits(max_bytes=10)
    packed: bytes = msgpack.packb(list(range(20)))
    with pytest.raises(DecodeError, match="larger than the 10-byte limit"):
        loads_json(b"[" + b"1," * 10 + b"1]", source="s", limits=small)
    with pytest.raises(DecodeError, match="larger than the 10-byte limit"):
        loads_toml("a = 1\n" * 10, source="s", limits=small)
    with pytest.raises(DecodeError, match="larger than the 10-byte limit"):
        unpack_msgpack(packed, source="s", limits=small)


def test_files_that_are_not_regular_are_refused_unread(tmp_path: Path) -> None:
    """A FIFO (which would block an open), /dev/zero, a directory and big files are refused."""
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    zero = tmp_path / "zero"
    zero.symlink_to("/dev/zero")
    big = tmp_path / "big"
    with big.open("wb") as handle:
        handle.truncate(10**9)  # sparse: a gigabyte that is never read
    cases = {
        fifo: "is a FIFO (named pipe), not a regular file",
        zero: "is a character device, not a regular file",
        tmp_path: "is a directory",
        big: "is 1,000,000,000 bytes, larger than the 1,000-byte limit",
        tmp_path / "missing": "no such file",
    }
    for path, problem in cases.items():
        with pytest.raises(DecodeError, match=re.escape(problem)):
            read_bounded(path, max_bytes=1000)
    with pytest.raises(DecodeError, match="is a symbolic link; refusing to follow it"):
        read_bounded(zero, max_bytes=1000, follow_symlinks=False)
    (tmp_path / "ok").write_bytes(b"fine")
    assert read_bounded(tmp_path / "ok", max_bytes=4) == b"fine"
