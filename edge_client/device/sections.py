"""The sections of a device's store, the clock, and the check that keeps text out of them.

A device's store (:class:`~edge_client.store.EncryptedStore`) holds one mapping of the
sections named by :class:`Section`. The sections other components fill through the
device (:class:`DataSection`: cap counters, feedback events, training examples) are plain
data checked by :func:`check_plain`: numbers, booleans, ``None``, lists, mappings with
identifier keys, and identifier-like strings (ids, category codes, variant names). A
string with whitespace or longer than :data:`MAX_IDENTIFIER_CHARS` is refused, so a
sentence of the person's text cannot end up in the store by mistake.
"""

from __future__ import annotations

import copy
import enum
import math
import re
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timezone
from typing import Any

from edge_client.device.errors import DeviceError

__all__ = [
    "FORMAT_VERSION",
    "MAX_DEPTH",
    "MAX_IDENTIFIER_CHARS",
    "TIMESTAMP_KEY",
    "Clock",
    "DataSection",
    "Section",
    "check_plain",
    "timestamp",
    "timestamped_records",
    "utc_now",
]

FORMAT_VERSION = 1
"""Version of the section layout written into ``meta.format``."""

MAX_IDENTIFIER_CHARS = 128
"""Longest string accepted inside a data section."""

MAX_DEPTH = 32
"""Deepest nesting of lists and mappings accepted inside a data section."""

TIMESTAMP_KEY = "at"
"""Key of the POSIX timestamp (seconds, UTC) in every feedback event and training example."""

_IDENTIFIER = re.compile(rf"[A-Za-z0-9_.:/#@+=\-]{{1,{MAX_IDENTIFIER_CHARS}}}")

#: Where a device takes the current time from: returns a timezone-aware datetime.
Clock = Callable[[], datetime]


class Section(enum.Enum):
    """The sections of a device's store."""

    META = "meta"
    PROFILE = "profile"
    CONSENT = "consent"
    CONTROLS = "controls"
    POLICY = "policy"
    CAPS = "caps"
    FEEDBACK = "feedback"
    TRAINING_EXAMPLES = "training_examples"
    AUDIT = "audit"


class DataSection(enum.Enum):
    """Sections other components (selection, training) keep through the device."""

    CAPS = "caps"
    FEEDBACK = "feedback"
    TRAINING_EXAMPLES = "training_examples"


def utc_now() -> datetime:
    """Return the current time in UTC (the default :data:`Clock`)."""
    return datetime.now(timezone.utc)


def timestamp(moment: datetime) -> float:
    """Return ``moment`` as POSIX seconds.

    Parameters
    ----------
    moment : datetime.datetime
        A timezone-aware time.

    Returns
    -------
    float
        Seconds since the epoch.

    Raises
    ------
    DeviceError
        When ``moment`` is naive (its instant would depend on the machine's time zone).
    """
    if not isinstance(moment, datetime) or moment.tzinfo is None:
        raise DeviceError("clock: must return a timezone-aware datetime (e.g. UTC)")
    return moment.timestamp()


def check_plain(value: object, where: str) -> None:
    """Check that ``value`` is plain data without free text.

    Parameters
    ----------
    value : object
        The value to keep.
    where : str
        Its place, used in error messages (e.g. ``"section 'caps'"``).

    Raises
    ------
    DeviceError
        For a type other than ``None``/``bool``/``int``/``float``/``str``/``list``/``dict``,
        a non-finite float, a non-``str`` or non-identifier mapping key, a string that is
        not an identifier (whitespace, other punctuation, or too long), or nesting deeper
        than :data:`MAX_DEPTH` (which includes reference cycles).
    """
    _check(value, where, 0)


def _check(value: object, where: str, depth: int) -> None:
    if value is None or isinstance(value, bool | int):
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise DeviceError(f"{where}: numbers must be finite")
        return
    if isinstance(value, str):
        if not _IDENTIFIER.fullmatch(value):
            raise DeviceError(
                f"{where}: strings must be identifiers (letters, digits, _.:/#@+=-, at most "
                f"{MAX_IDENTIFIER_CHARS} characters, no whitespace): free text is never kept"
            )
        return
    if not isinstance(value, list | dict):
        raise DeviceError(f"{where}: values of type {type(value).__name__} cannot be kept")
    if depth >= MAX_DEPTH:
        raise DeviceError(f"{where}: nested deeper than {MAX_DEPTH} containers")
    if isinstance(value, list):
        for position, item in enumerate(value):
            _check(item, f"{where}[{position}]", depth + 1)
        return
    for position, (key, item) in enumerate(value.items()):
        if not isinstance(key, str) or not _IDENTIFIER.fullmatch(key):
            raise DeviceError(f"{where}: mapping key #{position} is not an identifier")
        _check(item, f"{where}[{key!r}]", depth + 1)


def timestamped_records(
    records: Iterable[Mapping[str, Any]], section: DataSection, *, now: float
) -> list[dict[str, Any]]:
    """Copy and check records for a list section, stamping those without a time.

    Parameters
    ----------
    records : iterable of mappings
        Feedback events or training examples.
    section : DataSection
        The section they go to (for messages).
    now : float
        POSIX time given to records without a ``"at"`` key.

    Returns
    -------
    list of dict
        Checked copies, each with a numeric ``"at"``.

    Raises
    ------
    DeviceError
        When a record is not a mapping, has a non-numeric ``"at"``, or fails
        :func:`check_plain`.
    """
    out: list[dict[str, Any]] = []
    for position, record in enumerate(records):
        where = f"section {section.value!r}: record #{position}"
        if not isinstance(record, Mapping):
            raise DeviceError(f"{where}: must be a mapping, got {type(record).__name__}")
        kept = copy.deepcopy(dict(record))
        stamp = kept.setdefault(TIMESTAMP_KEY, now)
        if isinstance(stamp, bool) or not isinstance(stamp, int | float):
            raise DeviceError(f"{where}: field {TIMESTAMP_KEY!r} must be POSIX seconds")
        check_plain(kept, where)
        out.append(kept)
    return out
