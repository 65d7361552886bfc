"""The bytes of secure aggregation: bounded msgpack documents, parsed strictly.

Every stage's payload is one msgpack map in a ``ConfigRecord`` field. :func:`unpack`
bounds the size, the list lengths and the nesting before parsing, and :class:`Fields`
checks every field's type and size; anything else is a
:class:`~edge_client.secagg.errors.RefusalError` of kind ``malformed`` that names the
stage and the field. Node ids are unsigned 64-bit integers (Flower's).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from itertools import pairwise

import msgpack

from edge_client.secagg.errors import Refusal, RefusalError

__all__ = ["MAX_NODES", "MAX_PAYLOAD", "Fields", "pack", "unpack"]

MAX_PAYLOAD = 32 * 2**20
"""Largest payload parsed (bytes)."""
MAX_NODES = 100_000
"""Largest cohort any list may describe."""
_U64 = 2**64


def pack(document: Mapping[str, object]) -> bytes:
    """Return the canonical msgpack bytes of ``document`` (keys sorted)."""
    return bytes(msgpack.packb(dict(sorted(document.items())), use_bin_type=True))


def unpack(blob: object, what: str) -> Fields:
    """Parse one payload.

    Parameters
    ----------
    blob
        The bytes as received.
    what
        The stage or record, for messages.

    Returns
    -------
    Fields
        The parsed map.

    Raises
    ------
    RefusalError
        When it is not bytes, too large, not msgpack, or not a map with string keys.
    """
    if not isinstance(blob, bytes) or len(blob) > MAX_PAYLOAD:
        raise RefusalError(Refusal.MALFORMED, f"{what}: payload is not bytes of at most 32 MiB")
    try:
        doc = msgpack.unpackb(
            blob, raw=False, max_array_len=MAX_NODES, max_map_len=64, strict_map_key=True
        )
    except (ValueError, TypeError, msgpack.ExtraData, msgpack.FormatError, msgpack.StackError):
        raise RefusalError(Refusal.MALFORMED, f"{what}: payload is not valid msgpack") from None
    if not isinstance(doc, dict) or not all(isinstance(k, str) for k in doc):
        raise RefusalError(Refusal.MALFORMED, f"{what}: payload is not a map")
    return Fields(doc, what)


class Fields:
    """Typed access to a parsed payload's fields (see :func:`unpack`).

    Parameters
    ----------
    doc
        The parsed map.
    what
        The stage or record, for messages.
    """

    def __init__(self, doc: Mapping[str, object], what: str) -> None:
        self._doc = doc
        self.what = what

    def _bad(self, key: str, expected: str) -> RefusalError:
        return RefusalError(Refusal.MALFORMED, f"{self.what}: field {key!r} must be {expected}")

    def bytes_(self, key: str, *, size: int | None = None, most: int = 4096) -> bytes:
        """Return a bytes field (of exactly ``size`` bytes, or at most ``most``)."""
        value = self._doc.get(key)
        if not isinstance(value, bytes) or (
            len(value) != size if size is not None else len(value) > most
        ):
            raise self._bad(key, f"bytes of {size if size is not None else f'<= {most}'}")
        return value

    def integer(self, key: str, *, low: int = 0, high: int = _U64 - 1) -> int:
        """Return an integer field within ``[low, high]``."""
        value = self._doc.get(key)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise self._bad(key, f"an integer in [{low}, {high}]")
        return value

    def number(self, key: str) -> float:
        """Return a finite float field."""
        value = self._doc.get(key)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self._bad(key, "a number")
        number = float(value)
        if not math.isfinite(number):
            raise self._bad(key, "a finite number")
        return number

    def text(self, key: str, *, most: int = 256) -> str:
        """Return a string field of at most ``most`` characters."""
        value = self._doc.get(key)
        if not isinstance(value, str) or len(value) > most:
            raise self._bad(key, f"a string of <= {most} characters")
        return value

    def nodes(self, key: str) -> tuple[int, ...]:
        """Return a strictly increasing list of node ids."""
        value = self._doc.get(key)
        if not isinstance(value, list) or not all(
            isinstance(n, int) and not isinstance(n, bool) and 0 <= n < _U64 for n in value
        ):
            raise self._bad(key, "a list of node ids")
        if any(a >= b for a, b in pairwise(value)):
            raise self._bad(key, "strictly increasing node ids")
        return tuple(value)

    def texts(self, key: str, *, most: int = 64) -> tuple[str, ...]:
        """Return a list of short strings."""
        value = self._doc.get(key)
        if not isinstance(value, list) or not all(
            isinstance(v, str) and len(v) <= most for v in value
        ):
            raise self._bad(key, "a list of strings")
        return tuple(value)

    def pairs(self, key: str, *, most: int = 4096) -> tuple[tuple[int, bytes], ...]:
        """Return a list of ``[node id, bytes]`` pairs (bytes of at most ``most``)."""
        value = self._doc.get(key)
        if not isinstance(value, list):
            raise self._bad(key, "a list of [node, bytes] pairs")
        out = []
        for item in value:
            if not (
                isinstance(item, list)
                and len(item) == 2
                and isinstance(item[0], int)
                and not isinstance(item[0], bool)
                and 0 <= item[0] < _U64
                and isinstance(item[1], bytes)
                and len(item[1]) <= most
            ):
                raise self._bad(key, "a list of [node, bytes] pairs")
            out.append((item[0], item[1]))
        return tuple(out)

    def shapes(self, key: str) -> tuple[tuple[str, tuple[int, ...]], ...]:
        """Return a list of ``[name, [dims...]]`` weight shapes."""
        value = self._doc.get(key)
        out = []
        if isinstance(value, list) and len(value) <= 64:
            for item in value:
                if not (
                    isinstance(item, list)
                    and len(item) == 2
                    and isinstance(item[0], str)
                    and len(item[0]) <= 64
                    and isinstance(item[1], list)
                    and len(item[1]) <= 8
                    and all(
                        isinstance(d, int) and not isinstance(d, bool) and 0 <= d < 2**31
                        for d in item[1]
                    )
                ):
                    raise self._bad(key, "a list of [name, [dims]] shapes")
                out.append((item[0], tuple(item[1])))
            return tuple(out)
        raise self._bad(key, "a list of [name, [dims]] shapes")

    def maps(self, key: str) -> tuple[Fields, ...]:
        """Return a list of nested maps."""
        value = self._doc.get(key)
        if not isinstance(value, list) or not all(
            isinstance(v, dict) and all(isinstance(k, str) for k in v) for v in value
        ):
            raise self._bad(key, "a list of maps")
        return tuple(Fields(v, f"{self.what}[{key}]") for v in value)
