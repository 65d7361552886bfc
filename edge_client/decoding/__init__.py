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

from typing import TYPE_CHECKING

from edge_client.decoding.errors import DecodeError
from edge_client.decoding.files import open_regular, read_bounded, read_stream
from edge_client.decoding.jsonvalues import iter_json_lines, loads_json
from edge_client.decoding.limits import INT64_MAX, Limits
from edge_client.decoding.text import decode_utf8, line_at
from edge_client.decoding.tomlvalues import loads_toml
from edge_client.decoding.values import check_tree, valid_text
from edge_client.lazy import lazy_names

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


# The msgpack decoder is imported on first use: a profile never needs ``msgpack``.
__getattr__, __dir__ = lazy_names(
    __name__, {"unpack_msgpack": "edge_client.decoding.msgpackvalues"}, globals()
)
