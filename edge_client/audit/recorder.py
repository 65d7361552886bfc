"""``OutcomeRecorder``: what the device's own selections did, counted for outcome audits.

The recorder lives in the selector's plain state (``SelectionState.outcomes``, saved with
the caps section) and is fed by :class:`~edge_client.selection.PersonalizedFeed`: every
impression (variant, sponsored or not, exposure bin: how many times the same item was
shown before) and every outcome (engaged, dismissed). Counts cover one audit window; the
window ends when the device contributes to an audit round, or after two cadences without
one. Each window the device is drawn into the control group with probability
``audit.outcomes.control_share``; a control window sees generic content, so the lift of
personalization can be measured. Only numbers, catalog item ids and times are kept.
"""

from __future__ import annotations

import math
from collections.abc import MutableMapping
from typing import Any

import numpy as np
import numpy.typing as npt

from edge_client.audit.errors import OutcomeStateError
from edge_client.audit.layout import VARIANTS, Arm
from edge_client.audit.outcomes import COUNT_SHAPE, exposure_bin
from edge_client.policy.model import OutcomeAuditRules

__all__ = ["MAX_ITEMS", "OutcomeRecorder", "check_outcome_state"]

FORMAT = 1
MAX_ITEMS = 1000
"""Most items whose exposure count is kept (the least recently shown are dropped)."""
_DAY = 86400.0
_CELLS = math.prod(COUNT_SHAPE)
_MAX_COUNT = 1e7


def _number(value: object, where: str, low: float = 0.0) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise OutcomeStateError(f"outcome state: field {where!r} must be a number")
    if not (math.isfinite(value) and low <= value <= _MAX_COUNT * 1e3):
        raise OutcomeStateError(f"outcome state: field {where!r} is out of range")
    return float(value)


def check_outcome_state(state: object) -> dict[str, Any]:
    """Return a checked copy of a stored outcome state (``{}`` starts a fresh one).

    Raises
    ------
    OutcomeStateError
        Naming the field that is malformed.
    """
    if not isinstance(state, dict):
        raise OutcomeStateError("outcome state: must be a mapping")
    if not state:
        return {}
    if state.get("format") != FORMAT:
        raise OutcomeStateError(f"outcome state: field 'format' must be {FORMAT}")
    counts = state.get("counts")
    if not isinstance(counts, list) or len(counts) != _CELLS:
        raise OutcomeStateError(f"outcome state: field 'counts' must list {_CELLS} numbers")
    checked = [_number(c, "counts") for c in counts]
    if state.get("arm") not in {a.value for a in Arm}:
        raise OutcomeStateError("outcome state: field 'arm' is not an arm")
    items, pending = state.get("items", {}), state.get("pending", {})
    if not isinstance(items, dict) or len(items) > MAX_ITEMS:
        raise OutcomeStateError(f"outcome state: field 'items' must hold <= {MAX_ITEMS} items")
    if not isinstance(pending, dict) or len(pending) > MAX_ITEMS:
        raise OutcomeStateError("outcome state: field 'pending' is malformed")
    rounds = state.get("rounds", [])
    if not isinstance(rounds, list) or len(rounds) > 1000:
        raise OutcomeStateError("outcome state: field 'rounds' must be a short list")
    return {
        "format": FORMAT,
        "window_start": _number(state.get("window_start"), "window_start"),
        "arm": state["arm"],
        "counts": checked,
        "items": _items(items),
        "pending": _pending(pending),
        "rounds": [_number(r, "rounds") for r in rounds],
    }


def _items(items: dict[Any, Any]) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {}
    for key, value in items.items():
        if not isinstance(key, str) or not isinstance(value, list) or len(value) != 2:
            raise OutcomeStateError("outcome state: field 'items' is malformed")
        out[key] = [int(_number(value[0], "items")), _number(value[1], "items")]
    return out


def _pending(pending: dict[Any, Any]) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for key, value in pending.items():
        if not isinstance(key, str) or not isinstance(value, list) or len(value) != 3:
            raise OutcomeStateError("outcome state: field 'pending' is malformed")
        v, s, b = (int(_number(x, "pending")) for x in value)
        if not (v < COUNT_SHAPE[0] and s < COUNT_SHAPE[1] and b < COUNT_SHAPE[2]):
            raise OutcomeStateError("outcome state: field 'pending' is out of range")
        out[key] = [v, s, b]
    return out


class OutcomeRecorder:
    """Count impressions and outcomes of the device's selections for outcome audits.

    Parameters
    ----------
    rules : OutcomeAuditRules
        The policy's ``[audit.outcomes]`` (control share, cadence, period).
    state : MutableMapping
        Plain-data state, changed in place (``SelectionState.outcomes``); a malformed
        state is reset.
    rng : numpy.random.Generator
        Draws the arm of each window.
    """

    def __init__(
        self,
        rules: OutcomeAuditRules,
        state: MutableMapping[str, Any],
        rng: np.random.Generator,
    ) -> None:
        self.rules = rules
        self._rng = rng
        self._state = state
        try:
            checked = check_outcome_state(dict(state))
        except OutcomeStateError:
            checked = {}
        state.clear()
        state.update(checked)

    # windows -------------------------------------------------------------------------
    def _fresh(self, now: float) -> None:
        control = bool(self._rng.random() < self.rules.control_share)
        rounds = list(self._state.get("rounds", []))
        items = dict(self._state.get("items", {}))
        self._state.clear()
        self._state.update(
            {
                "format": FORMAT,
                "window_start": now,
                "arm": (Arm.CONTROL if control else Arm.PERSONALIZED).value,
                "counts": [0.0] * _CELLS,
                "items": items,
                "pending": {},
                "rounds": rounds,
            }
        )

    def _roll(self, now: float) -> None:
        start = self._state.get("window_start")
        if start is None or now - float(start) > 2 * self.rules.cadence_days * _DAY:
            self._fresh(now)
        horizon = now - self.rules.period_days * _DAY
        items = self._state["items"]
        for key in [k for k, (_, at) in items.items() if at < horizon]:
            del items[key]

    def arm(self, now: float) -> Arm:
        """Return the arm of the current window (a new window may start now)."""
        self._roll(now)
        return Arm(self._state["arm"])

    def in_control(self, now: float) -> bool:
        """Return whether the current window belongs to the control group."""
        return self.arm(now) is Arm.CONTROL

    # recording -----------------------------------------------------------------------
    def _counts(self) -> npt.NDArray[np.float64]:
        return np.asarray(self._state["counts"], np.float64).reshape(COUNT_SHAPE)

    def _store(self, counts: npt.NDArray[np.float64]) -> None:
        self._state["counts"] = [float(c) for c in counts.reshape(-1)]

    def shown(self, item_id: str, variant: str, *, sponsored: bool, now: float) -> None:
        """Count one impression of ``item_id`` shown as ``variant``."""
        self._roll(now)
        items: dict[str, list[float]] = self._state["items"]
        before = int(items.get(item_id, [0, now])[0])
        cell = [VARIANTS.index(variant), int(sponsored), exposure_bin(before)]
        counts = self._counts()
        counts[cell[0], cell[1], cell[2], 0] += 1.0
        self._store(counts)
        items[item_id] = [before + 1, now]
        if len(items) > MAX_ITEMS:
            oldest = sorted(items, key=lambda k: items[k][1])[: len(items) - MAX_ITEMS]
            for key in oldest:
                del items[key]
        pending: dict[str, list[int]] = self._state["pending"]
        pending[item_id] = cell
        if len(pending) > MAX_ITEMS:
            del pending[next(iter(pending))]

    def outcome(self, item_id: str, *, engaged: bool, dismissed: bool, now: float) -> None:
        """Count what the person did with the last impression of ``item_id`` (once)."""
        self._roll(now)
        cell = self._state["pending"].pop(item_id, None)
        if cell is None:
            return
        counts = self._counts()
        counts[cell[0], cell[1], cell[2], 1] += float(engaged)
        counts[cell[0], cell[1], cell[2], 2] += float(dismissed)
        self._store(counts)

    # audits --------------------------------------------------------------------------
    def window(self) -> tuple[npt.NDArray[np.float64], Arm]:
        """Return the current window's counts (:data:`COUNT_SHAPE`) and arm."""
        if not self._state:
            return np.zeros(COUNT_SHAPE), Arm.PERSONALIZED
        return self._counts(), Arm(self._state["arm"])

    @property
    def rounds(self) -> tuple[float, ...]:
        """Return when this device contributed to audit rounds (POSIX seconds)."""
        return tuple(self._state.get("rounds", ()))

    def close_window(self, now: float) -> None:
        """Start a new window after contributing to a round at ``now`` (and remember it)."""
        horizon = now - self.rules.period_days * _DAY
        rounds = [r for r in self._state.get("rounds", []) if r > horizon] + [now]
        self._fresh(now)
        self._state["rounds"] = rounds
