"""Context for selection: what this person engages with at this time of day, on this device.

:func:`context_affinity` turns the person's engagement counts by time of day (kept only
under the ``context`` signal) and by device class (``device`` signal) into one number per
ranking node: the log of how much more (or less) often they engage with it in the current
context than overall, shrunk towards 0 by :data:`SMOOTHING` pseudo-events and clipped to
[-1, 1]. With no data, or without the signal, it is 0, so the ranking is unchanged.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from edge_client.behaviour.counts import BehaviourCounts, CountKind
from edge_client.behaviour.events import DeviceClass, TimeOfDay
from edge_client.policy.engine import PolicyEngine
from edge_client.policy.model import Signal
from edge_client.taxonomy import Taxonomy

__all__ = ["SMOOTHING", "ContextAffinity", "SelectionContext", "context_affinity"]

SMOOTHING = 5.0
"""Pseudo-events pulling a context's distribution towards the person's overall one."""


@dataclass(frozen=True)
class SelectionContext:
    """The context of one selection (each part ``None`` when unknown or not allowed)."""

    time_of_day: TimeOfDay | None = None
    device: DeviceClass | None = None


@dataclass(frozen=True)
class ContextAffinity:
    """Per ranking node, the log-lift of engagement in the current time of day and device.

    Attributes
    ----------
    time : numpy.ndarray
        ``[N]`` log-lift for the time of day, in [-1, 1] (0: no data or not allowed).
    device : numpy.ndarray
        ``[N]`` log-lift for the device class, in [-1, 1].
    context : SelectionContext
        The context the values are for (parts the policy does not allow are ``None``).
    """

    time: npt.NDArray[np.float32]
    device: npt.NDArray[np.float32]
    context: SelectionContext


def _columns(
    engaged: Mapping[str, float], nodes: tuple[str, ...], taxonomy: Taxonomy
) -> dict[str, npt.NDArray[np.float64]]:
    """Per context value, engagement mass over the ranking nodes (own node or ancestor)."""
    index = {n: j for j, n in enumerate(nodes)}
    out: dict[str, npt.NDArray[np.float64]] = {}
    for key, weight in engaged.items():
        value, _, node = key.partition(":")
        j = index.get(node)
        if j is None and node in taxonomy.nodes:
            j = next((index[a] for a in taxonomy.ancestors(node) if a in index), None)
        if j is not None:
            out.setdefault(value, np.zeros(len(nodes)))[j] += weight
    return out


def _log_lift(
    by_value: dict[str, npt.NDArray[np.float64]], current: str | None, size: int
) -> npt.NDArray[np.float32]:
    if current is None or current not in by_value:
        return np.zeros(size, np.float32)
    overall = np.sum(list(by_value.values()), axis=0)
    p = (overall + 1.0) / (float(overall.sum()) + size)  # the person's overall distribution
    here = by_value[current]
    p_here = (here + SMOOTHING * p) / (float(here.sum()) + SMOOTHING)
    lift: npt.NDArray[np.float32] = np.clip(np.log(p_here / p), -1.0, 1.0).astype(np.float32)
    return lift


def context_affinity(
    counts: BehaviourCounts,
    context: SelectionContext,
    nodes: tuple[str, ...],
    *,
    engine: PolicyEngine,
    taxonomy: Taxonomy,
) -> ContextAffinity:
    """Return the person's context log-lifts over ``nodes`` for ``context``.

    Parameters
    ----------
    counts : BehaviourCounts
        The person's behaviour counts.
    context : SelectionContext
        Time of day and device class now.
    nodes : tuple of str
        The ranking model's interest nodes.
    engine : PolicyEngine
        Time of day is used only under the ``context`` signal, device class under ``device``.
    taxonomy : Taxonomy
        Maps finer engaged nodes to their ranking node.

    Returns
    -------
    ContextAffinity
        Two ``[N]`` vectors, zero where nothing is known or allowed.
    """
    size = len(nodes)
    time_ok = engine.is_signal_allowed(Signal.CONTEXT) and context.time_of_day is not None
    device_ok = engine.is_signal_allowed(Signal.DEVICE) and context.device is not None
    allowed = SelectionContext(
        context.time_of_day if time_ok else None, context.device if device_ok else None
    )
    time = np.zeros(size, np.float32)
    device = np.zeros(size, np.float32)
    if allowed.time_of_day is not None:
        by_time = _columns(counts.of_kind(CountKind.ENGAGED_TIME), nodes, taxonomy)
        time = _log_lift(by_time, allowed.time_of_day.value, size)
    if allowed.device is not None:
        by_device = _columns(counts.of_kind(CountKind.ENGAGED_DEVICE), nodes, taxonomy)
        device = _log_lift(by_device, allowed.device.value, size)
    if not (math.isfinite(float(time.sum())) and math.isfinite(float(device.sum()))):
        return ContextAffinity(np.zeros(size, np.float32), np.zeros(size, np.float32), allowed)
    return ContextAffinity(time, device, allowed)
