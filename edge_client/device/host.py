"""What the mixins of :class:`~edge_client.device.Device` need from the class they join.

One protocol for :class:`~edge_client.device.controls.UserControlsMixin` and
:class:`~edge_client.device.records.DataSectionsMixin`: the kept data, consent and pause
state, the clock, and the transaction every change runs in.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Protocol

from edge_client.device.kept import KeptData
from edge_client.policy.model import DeviceAuditEvent, Purpose
from edge_client.profiler import EdgeProfiler

__all__ = ["DeviceHost"]


class DeviceHost(Protocol):
    """The state and helpers a device mixin uses (see the module docstring)."""

    _profiler: EdgeProfiler
    _kept: KeptData
    _granted: frozenset[Purpose]
    _paused: bool
    _paused_at: float | None

    def _now(self) -> float: ...

    def _change(self) -> AbstractContextManager[None]: ...

    def _save(self, *, flush_previous: bool = False) -> bool: ...

    def _audit(
        self,
        event: DeviceAuditEvent,
        action: str,
        *,
        at: float | None = None,
        count: int | None = None,
    ) -> bool: ...
