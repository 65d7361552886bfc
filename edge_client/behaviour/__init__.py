"""First-party behaviour on the device: events, decayed counts, and interests from both.

An app reports what the person does (:class:`View`, :class:`Purchase`, :class:`Session`,
:class:`DeviceUse`, :class:`ContextEvent`) to :meth:`EdgeProfiler.record
<edge_client.profiler.EdgeProfiler.record>` or :meth:`Device.record
<edge_client.device.Device.record>`. Each kind is a policy signal, refused when forbidden
or without consent; accepted events become decayed counts (never a log of events), feed the
interest scores together with the person's words (:func:`fuse_interests`) and, where the
policy allows ``context``/``device``, selection by time of day and device class
(:func:`context_affinity`). See ``docs/architecture.md``.

Examples
--------
>>> from edge_client import EdgeProfiler
>>> from edge_client.behaviour import View
>>> profiler = EdgeProfiler(consent=["profiling"])
>>> profiler.record(View(("483",), dwell_seconds=45)).stored
True
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from edge_client.lazy import lazy_names

if TYPE_CHECKING:
    from edge_client.behaviour.context import ContextAffinity, SelectionContext, context_affinity
    from edge_client.behaviour.counts import BehaviourCounts, CountKind
    from edge_client.behaviour.errors import (
        BehaviourError,
        BehaviourFormatError,
        ForbiddenSignalError,
    )
    from edge_client.behaviour.events import (
        SIGNAL_OF,
        AmountBucket,
        BehaviourEvent,
        ContextEvent,
        DayType,
        DeviceClass,
        DeviceUse,
        EventKind,
        Intent,
        Purchase,
        Session,
        SessionLength,
        TimeOfDay,
        View,
    )
    from edge_client.behaviour.fusion import FusedInterests, InterestSource, fuse_interests
    from edge_client.behaviour.recorder import RecordResult, current_device, record_event

__all__ = [
    "SIGNAL_OF",
    "AmountBucket",
    "BehaviourCounts",
    "BehaviourError",
    "BehaviourEvent",
    "BehaviourFormatError",
    "ContextAffinity",
    "ContextEvent",
    "CountKind",
    "DayType",
    "DeviceClass",
    "DeviceUse",
    "EventKind",
    "ForbiddenSignalError",
    "FusedInterests",
    "Intent",
    "InterestSource",
    "Purchase",
    "RecordResult",
    "SelectionContext",
    "Session",
    "SessionLength",
    "TimeOfDay",
    "View",
    "context_affinity",
    "current_device",
    "fuse_interests",
    "record_event",
]

# Each name is imported on first use (PEP 562): a profile of words alone needs only the
# counts and the fusion, not the event types, their checks or the context features.
_LAZY = {
    "AmountBucket": "edge_client.behaviour.events",
    "BehaviourCounts": "edge_client.behaviour.counts",
    "BehaviourError": "edge_client.behaviour.errors",
    "BehaviourEvent": "edge_client.behaviour.events",
    "BehaviourFormatError": "edge_client.behaviour.errors",
    "ContextAffinity": "edge_client.behaviour.context",
    "ContextEvent": "edge_client.behaviour.events",
    "CountKind": "edge_client.behaviour.counts",
    "DayType": "edge_client.behaviour.events",
    "DeviceClass": "edge_client.behaviour.events",
    "DeviceUse": "edge_client.behaviour.events",
    "EventKind": "edge_client.behaviour.events",
    "ForbiddenSignalError": "edge_client.behaviour.errors",
    "FusedInterests": "edge_client.behaviour.fusion",
    "Intent": "edge_client.behaviour.events",
    "InterestSource": "edge_client.behaviour.fusion",
    "Purchase": "edge_client.behaviour.events",
    "RecordResult": "edge_client.behaviour.recorder",
    "SIGNAL_OF": "edge_client.behaviour.events",
    "SelectionContext": "edge_client.behaviour.context",
    "Session": "edge_client.behaviour.events",
    "SessionLength": "edge_client.behaviour.events",
    "TimeOfDay": "edge_client.behaviour.events",
    "View": "edge_client.behaviour.events",
    "context_affinity": "edge_client.behaviour.context",
    "current_device": "edge_client.behaviour.recorder",
    "fuse_interests": "edge_client.behaviour.fusion",
    "record_event": "edge_client.behaviour.recorder",
}


__getattr__, __dir__ = lazy_names(__name__, _LAZY, globals())
