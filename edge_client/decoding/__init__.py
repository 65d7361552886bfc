"""Bounded decoders: one place per input kind that bounds size, depth and numeric range.

Every reader of outside input goes through here: JSON documents and JSON lines
(:func:`loads_json`, :func:`iter_json_lines`), TOML policies (:func:`loads_toml`), msgpack
store payloads, bundles and checkpoints (:func:`unpack_msgpack`) and whole files
(:func:`read_bounded`, which refuses FIFOs, devices and oversized files without reading
them). Each checks the raw input against its :class:`Limits` before a parser recurses or
allocates, and the decoded values after; every failure is a :class:`DecodeError` naming the
source, line and field.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from edge_client.decoding.errors import DecodeError
from edge_client.decoding.files import open_regular, read_bounded, read_stream
from edge_client.decoding.jsonvalues import iter_json_lines, loads_json
from edge_client.decoding.limits import INT64_MAX, Limits
from edge_client.decoding.text import decode_utf8, line_at
from edge_client.decoding.tomlvalues import loads_toml
from edge_client.decoding.values import check_tree, valid_text

if TYPE_CHECKING:
    from edge_client.decoding.msgpackvalues import unpack_msgpack

__all__ = [
    "INT64_MAX",
    "DecodeError",
    "Limits",
    "check_tree",
    "decode_utf8",
    "iter_json_lines",
    "line_at",
    "loads_json",
    "loads_toml",
    "open_regular",
    "read_bounded",
    "read_stream",
    "unpack_msgpack",
    "valid_text",
]


def __getattr__(name: str) -> Any:
    """Import the msgpack decoder on first use (a profile never needs ``msgpack``)."""
    if name != "unpack_msgpack":
        raise AttributeError(f"module 'edge_client.decoding' has no attribute {name!r}")
    value = importlib.import_module("edge_client.decoding.msgpackvalues").unpack_msgpack
    globals()[name] = value
    return value
