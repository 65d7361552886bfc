"""Bounded msgpack: store payloads, model bundles and checkpoints decoded within limits.

msgpack itself bounds what one header may claim (every length is capped by the input's
size here, so a 5-byte "array of 4 billion items" allocates nothing), refuses nesting past
its own stack and extension types are refused outright (``ext_hook``); the decoded value is
then walked (:func:`~edge_client.decoding.values.check_tree`) for depth, text and
non-finite floats.
"""

from __future__ import annotations

import msgpack

from edge_client.decoding.errors import DecodeError
from edge_client.decoding.limits import Limits
from edge_client.decoding.values import check_tree

__all__ = ["unpack_msgpack"]


class _RefusedError(Exception):
    """Raised by the extension hook; turned into a DecodeError by the caller."""


def _no_extensions(code: int, data: bytes) -> object:
    del data  # never looked at
    raise _RefusedError(f"msgpack extension type {code} is not accepted")


def unpack_msgpack(data: bytes, *, source: str, limits: Limits) -> object:
    """Decode one msgpack value within ``limits``.

    Parameters
    ----------
    data : bytes
        The whole payload (trailing bytes are refused).
    source : str
        Name used in messages.
    limits : Limits
        Size, depth, integer and float bounds.

    Returns
    -------
    object
        The value: ``dict`` (``str`` keys), ``list``, ``str``, ``bytes``, ``int``,
        ``float``, ``bool`` or ``None``.

    Raises
    ------
    DecodeError
        When the payload is too large, malformed, truncated, followed by extra bytes,
        too deep, uses an extension type, holds a non-``str`` map key, invalid UTF-8 text
        or a value out of bounds.
    """
    size = len(data)
    if size > limits.max_bytes:
        raise DecodeError(source, f"larger than the {limits.max_bytes:,}-byte limit")
    try:
        value = msgpack.unpackb(
            data,
            raw=False,
            strict_map_key=True,
            use_list=True,
            ext_hook=_no_extensions,
            timestamp=0,
            max_str_len=size,
            max_bin_len=size,
            max_array_len=size,
            max_map_len=size,
            max_ext_len=size,
        )
    except _RefusedError as exc:
        raise DecodeError(source, str(exc)) from None
    except msgpack.ExtraData:
        raise DecodeError(source, "not valid msgpack (extra bytes after the value)") from None
    except (ValueError, TypeError, msgpack.UnpackException) as exc:
        # FormatError, StackError and OutOfData are UnpackException; invalid UTF-8 text and
        # over-long lengths are ValueError; a list or map used as a key is TypeError.
        raise DecodeError(source, f"not valid msgpack ({type(exc).__name__})") from None
    check_tree(value, limits, source=source)
    return value
