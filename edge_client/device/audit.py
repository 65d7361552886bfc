"""The device's local audit log: event names, counts and times, never text.

The policy's ``audit.device_log`` lists which kinds of event
(:class:`~edge_client.policy.DeviceAuditEvent`) the device records; the log is kept only
while ``retention.keep`` lists ``audit_log`` and entries expire after
``retention.audit_log_ttl_days``. An entry is ``{"event": kind, "action": identifier,
"at": POSIX seconds}`` plus an optional ``"count"``.
"""

from __future__ import annotations

from typing import Any

from edge_client.device.errors import DeviceError
from edge_client.device.sections import TIMESTAMP_KEY, check_plain
from edge_client.policy.engine import PolicyEngine
from edge_client.policy.model import DeviceAuditEvent, StoredItem

__all__ = ["MAX_AUDIT_ENTRIES", "audit_enabled", "audit_entry"]

MAX_AUDIT_ENTRIES = 1000
"""Most entries kept; the oldest are dropped first."""


def audit_enabled(engine: PolicyEngine, event: DeviceAuditEvent) -> bool:
    """Return whether the policy in force records ``event`` in the device's audit log.

    Parameters
    ----------
    engine : PolicyEngine
        The policy in force.
    event : DeviceAuditEvent
        The kind of event.

    Returns
    -------
    bool
        ``True`` when ``audit.device_log`` lists it and ``retention.keep`` lists
        ``audit_log``.
    """
    return event in engine.audit.device_log and StoredItem.AUDIT_LOG in engine.retention.keep


def audit_entry(
    event: DeviceAuditEvent, action: str, *, at: float, count: int | None = None
) -> dict[str, Any]:
    """Build one audit entry.

    Parameters
    ----------
    event : DeviceAuditEvent
        The kind of event.
    action : str
        What happened, as an identifier (e.g. ``"granted_profiling"``).
    at : float
        POSIX time.
    count : int, optional
        How many things it concerned (e.g. items selected).

    Returns
    -------
    dict[str, Any]
        The entry.

    Raises
    ------
    DeviceError
        When ``event`` is not a :class:`DeviceAuditEvent`, ``action`` is not an identifier
        or ``count`` is not a non-negative int.
    """
    if not isinstance(event, DeviceAuditEvent):
        raise DeviceError(f"audit: event must be a DeviceAuditEvent, got {type(event).__name__}")
    entry: dict[str, Any] = {"event": event.value, "action": action, TIMESTAMP_KEY: float(at)}
    if count is not None:
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise DeviceError("audit: count must be an int >= 0")
        entry["count"] = count
    check_plain(entry, "audit entry")
    return entry
