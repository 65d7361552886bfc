"""First-party behaviour events an app reports: what was viewed, bought, when and where.

Each event kind is one policy signal (:data:`SIGNAL_OF`): a :class:`View` of content in
taxonomy categories with its dwell time (``content_categories_viewed``), a
:class:`Purchase` by category with a coarse amount bucket (``purchases``), a
:class:`Session` with its length and time of day (``engagement_time``), the
:class:`DeviceUse` class of the device (``device``) and a :class:`ContextEvent` with the
person's intent (``context``). Events are validated when built; the recorder
(:mod:`edge_client.behaviour.recorder`) turns them into decayed counts and never keeps the
event itself, so amounts, exact times and item ids are never stored.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from edge_client.arguments import enum_member
from edge_client.behaviour.errors import BehaviourError
from edge_client.errors import ArgumentError
from edge_client.policy.model import Signal

__all__ = [
    "MAX_CATEGORIES",
    "MAX_DWELL_SECONDS",
    "SIGNAL_OF",
    "AmountBucket",
    "BehaviourEvent",
    "ContextEvent",
    "DayType",
    "DeviceClass",
    "DeviceUse",
    "EventKind",
    "Intent",
    "Purchase",
    "Session",
    "SessionLength",
    "TimeOfDay",
    "View",
]

MAX_CATEGORIES = 8
"""Most taxonomy categories one viewed or bought item may carry."""

MAX_DWELL_SECONDS = 6 * 3600.0
"""Longest dwell or session time accepted (six hours); longer is an app error."""

_MAX_ID = 64


class EventKind(enum.Enum):
    """The kinds of behaviour event, one per policy signal."""

    VIEW = "view"
    PURCHASE = "purchase"
    SESSION = "session"
    DEVICE = "device"
    CONTEXT = "context"


SIGNAL_OF: dict[EventKind, Signal] = {
    EventKind.VIEW: Signal.CONTENT_CATEGORIES_VIEWED,
    EventKind.PURCHASE: Signal.PURCHASES,
    EventKind.SESSION: Signal.ENGAGEMENT_TIME,
    EventKind.DEVICE: Signal.DEVICE,
    EventKind.CONTEXT: Signal.CONTEXT,
}
"""The policy signal each event kind is (``signals.allowed`` / ``signals.forbidden``)."""


class TimeOfDay(enum.Enum):
    """A coarse part of the day, in the time zone of the event's own timestamp."""

    NIGHT = "night"
    """00:00–05:59."""
    MORNING = "morning"
    """06:00–11:59."""
    AFTERNOON = "afternoon"
    """12:00–17:59."""
    EVENING = "evening"
    """18:00–23:59."""

    @classmethod
    def of(cls, moment: datetime) -> TimeOfDay:
        """Return the part of the day of ``moment`` (its own local hour)."""
        return (cls.NIGHT, cls.MORNING, cls.AFTERNOON, cls.EVENING)[moment.hour // 6]


class DayType(enum.Enum):
    """Weekday or weekend."""

    WEEKDAY = "weekday"
    WEEKEND = "weekend"

    @classmethod
    def of(cls, moment: datetime) -> DayType:
        """Return whether ``moment`` falls on a weekend (Saturday, Sunday)."""
        return cls.WEEKEND if moment.weekday() >= 5 else cls.WEEKDAY


class DeviceClass(enum.Enum):
    """The class of device the person uses."""

    PHONE = "phone"
    TABLET = "tablet"
    DESKTOP = "desktop"
    TV = "tv"
    OTHER = "other"


class Intent(enum.Enum):
    """What the person is doing, as the app knows it (never inferred here)."""

    BROWSING = "browsing"
    RESEARCHING = "researching"
    BUYING = "buying"


class AmountBucket(enum.Enum):
    """A purchase amount, only ever kept as one of these coarse buckets."""

    UNDER_10 = "under_10"
    FROM_10_TO_50 = "10_to_50"
    FROM_50_TO_200 = "50_to_200"
    FROM_200_TO_1000 = "200_to_1000"
    OVER_1000 = "over_1000"

    @classmethod
    def of(cls, amount: float) -> AmountBucket:
        """Return the bucket of ``amount`` (any currency unit the app uses consistently)."""
        for limit, bucket in (
            (10, cls.UNDER_10),
            (50, cls.FROM_10_TO_50),
            (200, cls.FROM_50_TO_200),
            (1000, cls.FROM_200_TO_1000),
        ):
            if amount < limit:
                return bucket
        return cls.OVER_1000


class SessionLength(enum.Enum):
    """A session length bucket."""

    SHORT = "short"
    """Under two minutes."""
    MEDIUM = "medium"
    """Two to fifteen minutes."""
    LONG = "long"
    """Fifteen minutes or more."""

    @classmethod
    def of(cls, seconds: float) -> SessionLength:
        """Return the bucket of a session of ``seconds``."""
        if seconds < 120:
            return cls.SHORT
        return cls.MEDIUM if seconds < 900 else cls.LONG


def _moment(value: object, where: str) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, datetime) or value.tzinfo is None:
        kind = "naive datetime" if isinstance(value, datetime) else type(value).__name__
        raise ArgumentError(
            f"{where}.at: expected None or a timezone-aware datetime, got {kind} "
            "(e.g. datetime.now(timezone.utc).astimezone() for local time of day)"
        )
    return value


def _seconds(value: object, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ArgumentError(f"{where}: expected a finite number of seconds")
    if not 0 <= value <= MAX_DWELL_SECONDS:
        raise BehaviourError(
            f"{where}: must be between 0 and {MAX_DWELL_SECONDS:g} seconds, got {value:g}"
        )
    return float(value)


def _categories(value: object, where: str) -> tuple[str, ...]:
    items = (value,) if isinstance(value, str) else value
    if not isinstance(items, list | tuple) or not items:
        raise ArgumentError(
            f"{where}.categories: expected one or more taxonomy node ids (e.g. ['483'])"
        )
    if len(items) > MAX_CATEGORIES:
        raise BehaviourError(f"{where}.categories: at most {MAX_CATEGORIES}, got {len(items)}")
    out = []
    for item in items:
        if not isinstance(item, str) or not 0 < len(item) <= _MAX_ID or not item.isprintable():
            raise ArgumentError(
                f"{where}.categories: each must be a taxonomy node id string of 1-{_MAX_ID} "
                "characters"
            )
        out.append(item.strip())
    return tuple(dict.fromkeys(out))


def _set(event: object, **values: object) -> None:
    for name, value in values.items():
        object.__setattr__(event, name, value)


@dataclass(frozen=True, init=False)
class View:
    """The person viewed content in ``categories`` for ``dwell_seconds``.

    Parameters
    ----------
    categories : str or sequence of str
        Taxonomy node ids of the content (e.g. a catalog item's categories).
    dwell_seconds : float, default 30
        Time spent on it, 0 to :data:`MAX_DWELL_SECONDS`.
    at : datetime, optional
        Timezone-aware time of the view (its local hour gives the time of day).
    device : DeviceClass or str, optional
        The device it happened on, when the app knows it.

    Raises
    ------
    ArgumentError, BehaviourError
        When a field has the wrong type or range.
    """

    categories: tuple[str, ...]
    dwell_seconds: float
    at: datetime | None
    device: DeviceClass | None
    kind: EventKind = field(default=EventKind.VIEW)

    def __init__(
        self,
        categories: str | Sequence[str],
        dwell_seconds: float = 30.0,
        at: datetime | None = None,
        device: DeviceClass | str | None = None,
    ) -> None:
        _set(
            self,
            categories=_categories(categories, "View"),
            dwell_seconds=_seconds(dwell_seconds, "View.dwell"),
            at=_moment(at, "View"),
            device=None if device is None else enum_member(DeviceClass, device, name="View.device"),
            kind=EventKind.VIEW,
        )


@dataclass(frozen=True, init=False)
class Purchase:
    """The person bought something in ``categories``; the amount is kept as a bucket only.

    Parameters
    ----------
    categories : str or sequence of str
        Taxonomy node ids of what was bought.
    amount : AmountBucket, str or float
        A bucket, its name, or an amount (bucketed at once; the number is never kept).
    at : datetime, optional
        Timezone-aware time of the purchase.
    """

    categories: tuple[str, ...]
    amount: AmountBucket
    at: datetime | None
    kind: EventKind = field(default=EventKind.PURCHASE)

    def __init__(
        self,
        categories: str | Sequence[str],
        amount: AmountBucket | str | float = AmountBucket.FROM_10_TO_50,
        at: datetime | None = None,
    ) -> None:
        bucket: object = amount
        if isinstance(amount, int | float) and not isinstance(amount, bool):
            if not math.isfinite(amount) or amount < 0:
                raise BehaviourError("Purchase.amount: must be a finite amount >= 0")
            bucket = AmountBucket.of(float(amount))
        _set(
            self,
            categories=_categories(categories, "Purchase"),
            amount=enum_member(AmountBucket, bucket, name="Purchase.amount"),
            at=_moment(at, "Purchase"),
            kind=EventKind.PURCHASE,
        )


@dataclass(frozen=True, init=False)
class Session:
    """The person used the app for ``length_seconds``, ending (or starting) ``at``."""

    length_seconds: float
    at: datetime | None
    kind: EventKind = field(default=EventKind.SESSION)

    def __init__(self, length_seconds: float, at: datetime | None = None) -> None:
        _set(
            self,
            length_seconds=_seconds(length_seconds, "Session.length"),
            at=_moment(at, "Session"),
            kind=EventKind.SESSION,
        )


@dataclass(frozen=True, init=False)
class DeviceUse:
    """The person uses a device of ``device_class``."""

    device_class: DeviceClass
    at: datetime | None
    kind: EventKind = field(default=EventKind.DEVICE)

    def __init__(self, device_class: DeviceClass | str, at: datetime | None = None) -> None:
        _set(
            self,
            device_class=enum_member(DeviceClass, device_class, name="DeviceUse.device_class"),
            at=_moment(at, "DeviceUse"),
            kind=EventKind.DEVICE,
        )


@dataclass(frozen=True, init=False)
class ContextEvent:
    """Coarse context: the person's ``intent`` (as the app knows it) and the time of day."""

    intent: Intent
    at: datetime | None
    kind: EventKind = field(default=EventKind.CONTEXT)

    def __init__(self, intent: Intent | str = Intent.BROWSING, at: datetime | None = None) -> None:
        _set(
            self,
            intent=enum_member(Intent, intent, name="ContextEvent.intent"),
            at=_moment(at, "ContextEvent"),
            kind=EventKind.CONTEXT,
        )


BehaviourEvent = View | Purchase | Session | DeviceUse | ContextEvent
"""Any behaviour event."""
