"""``BehaviourCounts``: what the device keeps of behaviour, as decayed counts keyed by kind.

Counts never hold an event: a view adds its dwell weight to ``view:<node>`` and one to
``views:<node>``, a purchase adds one to ``purchase:<node>`` and to its amount bucket, a
session to its time of day and length bucket, and so on. Keys are identifiers (kind,
taxonomy node id, bucket name), so the device store accepts them as plain data. Counts
add and decay like the text counts (:meth:`BehaviourCounts.scale`), are bounded in size
(:data:`MAX_KEYS`, the weakest dropped first) and are decoded with every field checked.
"""

from __future__ import annotations

import enum
import math
import re
from collections.abc import Iterator, Mapping
from typing import Any

from edge_client.behaviour.errors import BehaviourFormatError

__all__ = ["FORMAT", "MAX_KEYS", "BehaviourCounts", "CountKind"]

FORMAT = 1
"""Layout version of :meth:`BehaviourCounts.to_dict`."""

MAX_KEYS = 2048
"""Most keys kept; past it the smallest counts are dropped first."""

_MAX_VALUE = 1e9
_PART = r"[A-Za-z0-9_.\-]{1,64}"


class CountKind(enum.Enum):
    """The prefix of a count key, and what it counts."""

    VIEW = "view"
    """Dwell-weighted views of a node (a 30-second view weighs 1)."""
    VIEWS = "views"
    """Number of views of a node."""
    PURCHASE = "purchase"
    """Purchases in a node."""
    AMOUNT = "amount"
    """Purchases per amount bucket."""
    SESSION_TIME = "session_time"
    """Sessions per time of day."""
    SESSION_LENGTH = "session_length"
    """Sessions per length bucket."""
    DEVICE = "device"
    """Uses per device class."""
    CONTEXT_TIME = "context_time"
    """Context events per time of day."""
    CONTEXT_DAY = "context_day"
    """Context events per day type."""
    INTENT = "intent"
    """Context events per intent."""
    ENGAGED_TIME = "engaged_time"
    """Engagement with a node per time of day: ``engaged_time:<time>:<node>``."""
    ENGAGED_DEVICE = "engaged_device"
    """Engagement with a node per device class: ``engaged_device:<class>:<node>``."""


_PAIRED = frozenset({CountKind.ENGAGED_TIME, CountKind.ENGAGED_DEVICE})
_KEY = re.compile(rf"(?P<kind>[a-z_]+):(?P<a>{_PART})(?::(?P<b>{_PART}))?")
_KINDS = {k.value: k for k in CountKind}


def _key(kind: CountKind, first: str, second: str | None = None) -> str:
    return f"{kind.value}:{first}" if second is None else f"{kind.value}:{first}:{second}"


class BehaviourCounts:
    """Decayed behaviour counts of one person (plain numbers keyed by identifiers)."""

    def __init__(self, values: Mapping[str, float] | None = None) -> None:
        self._values: dict[str, float] = dict(values or {})

    def __len__(self) -> int:
        """Return the number of keys."""
        return len(self._values)

    def __bool__(self) -> bool:
        """Return whether anything is counted."""
        return bool(self._values)

    def copy(self) -> BehaviourCounts:
        """Return an independent copy."""
        return BehaviourCounts(self._values)

    def add(
        self, kind: CountKind, first: str, second: str | None = None, *, weight: float = 1.0
    ) -> None:
        """Add ``weight`` to one count (``second`` only for the two engagement kinds).

        Raises
        ------
        BehaviourFormatError
            When the key is malformed or the weight is not a finite number >= 0.
        """
        if (second is not None) != (kind in _PAIRED):
            raise BehaviourFormatError(f"count {kind.value!r}: wrong number of key parts")
        key = _key(kind, first, second)
        if not _KEY.fullmatch(key) or not (math.isfinite(weight) and weight >= 0):
            raise BehaviourFormatError(f"count {kind.value!r}: malformed key or weight")
        self._values[key] = min(self._values.get(key, 0.0) + weight, _MAX_VALUE)
        if len(self._values) > MAX_KEYS:
            keep = sorted(self._values.items(), key=lambda kv: (-kv[1], kv[0]))
            self._values = dict(keep[: MAX_KEYS * 9 // 10])

    def merge(self, other: BehaviourCounts) -> None:
        """Add every count of ``other`` (counts add, like text counts)."""
        for key, value in other.items():
            self._values[key] = min(self._values.get(key, 0.0) + value, _MAX_VALUE)

    def get(self, kind: CountKind, first: str, second: str | None = None) -> float:
        """Return one count (0 when absent)."""
        return self._values.get(_key(kind, first, second), 0.0)

    def of_kind(self, kind: CountKind) -> dict[str, float]:
        """Return the counts of ``kind`` keyed by the rest of the key (``a`` or ``a:b``)."""
        prefix = f"{kind.value}:"
        return {k[len(prefix) :]: v for k, v in self._values.items() if k.startswith(prefix)}

    def items(self) -> Iterator[tuple[str, float]]:
        """Iterate over ``(key, count)`` pairs."""
        return iter(self._values.items())

    def total(self, kind: CountKind) -> float:
        """Return the sum of the counts of ``kind``."""
        return float(sum(self.of_kind(kind).values()))

    def scale(self, factor: float) -> None:
        """Multiply every count by ``factor`` in [0, 1]; counts that fall near 0 are dropped."""
        self._values = {k: v * factor for k, v in self._values.items() if v * factor > 1e-6}

    def clear(self) -> None:
        """Forget everything."""
        self._values = {}

    def to_dict(self) -> dict[str, Any]:
        """Return plain data for the device store: ``{"format": 1, "counts": {...}}``."""
        return {"format": FORMAT, "counts": {k: float(v) for k, v in sorted(self._values.items())}}

    @classmethod
    def from_dict(cls, data: object) -> BehaviourCounts:
        """Check and restore :meth:`to_dict` output.

        Raises
        ------
        BehaviourFormatError
            Naming the field that is malformed (the whole section is refused).
        """
        where = "behaviour counts"
        if not isinstance(data, Mapping) or data.get("format") != FORMAT:
            raise BehaviourFormatError(f"{where}: field 'format' must be {FORMAT}")
        counts = data.get("counts")
        if not isinstance(counts, Mapping) or len(counts) > MAX_KEYS:
            raise BehaviourFormatError(
                f"{where}: field 'counts' must be a mapping of at most {MAX_KEYS} keys"
            )
        values: dict[str, float] = {}
        for position, (key, value) in enumerate(counts.items()):
            match = _KEY.fullmatch(key) if isinstance(key, str) else None
            kind = _KINDS.get(match.group("kind")) if match else None
            if match is None or kind is None or (match.group("b") is not None) != (kind in _PAIRED):
                raise BehaviourFormatError(f"{where}: key #{position} is not a count key")
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not (math.isfinite(value) and 0 <= value <= _MAX_VALUE)
            ):
                raise BehaviourFormatError(f"{where}: count #{position} must be in [0, 1e9]")
            values[key] = float(value)
        return cls(values)
