"""What selection remembers between calls: impressions, dismissals, fatigue, training examples.

:class:`SelectionState` is plain data: :meth:`~SelectionState.to_dict` gives ``dict``/
``list``/``str``/``float`` values only (what the encrypted store accepts) and
:meth:`~SelectionState.from_dict` checks and restores it. It holds catalog item ids (chosen
by the app, not the person), times in seconds since the epoch, and feature rows (numbers);
never text. Windows are pruned on every call, so it stays small (at most a day of
impressions, which the policy caps at ``max_per_day``).
"""

from __future__ import annotations

import copy
import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from edge_client.policy.model import PersonalizationRules
from edge_client.selection.errors import SelectionStateError

__all__ = ["HOUR", "Counts", "Pending", "SelectionState", "TrainingExample"]

HOUR = 3600.0
DAY = 24 * HOUR
FORMAT = 1


@dataclass(frozen=True)
class TrainingExample:
    """One local training example: a feature row, a 0/1 label, when, and whether trained on."""

    x: tuple[float, ...]
    y: float
    at: float
    trained: bool = False


@dataclass(frozen=True)
class Pending:
    """The features of an item as it was last shown, kept until feedback or a day passes."""

    x: tuple[float, ...]
    at: float
    personalized: bool


@dataclass(frozen=True)
class Counts:
    """Impressions in the current windows (the inputs of the caps)."""

    last_hour: int
    last_day: int
    per_item: Counter[str]
    per_category: Counter[str]


@dataclass
class SelectionState:
    """Mutable, serializable memory of the selector (one per person/device)."""

    impressions: list[tuple[str, tuple[str, ...], float]] = field(default_factory=list)
    streaks: dict[str, tuple[int, float]] = field(default_factory=dict)
    dismissed: dict[str, float] = field(default_factory=dict)
    pending: dict[str, Pending] = field(default_factory=dict)
    examples: list[TrainingExample] = field(default_factory=list)
    outcomes: dict[str, Any] = field(default_factory=dict)
    """Outcome-audit counts of the current window (:class:`edge_client.audit.OutcomeRecorder`)."""

    def counts(self, now: float) -> Counts:
        """Return impression counts of the last hour and day, per item and per category."""
        per_item: Counter[str] = Counter()
        per_category: Counter[str] = Counter()
        hour = day = 0
        for item_id, categories, at in self.impressions:
            if now - at < DAY:
                day += 1
                hour += now - at < HOUR
                per_item[item_id] += 1
                per_category.update(categories)
        return Counts(hour, day, per_item, per_category)

    def blocked(self, now: float, rules: PersonalizationRules) -> set[str]:
        """Return item ids suppressed after a dismissal or cooling down from fatigue."""
        out = {i for i, at in self.dismissed.items()
               if now - at < rules.dismissal_suppression_hours * HOUR}
        limit = rules.fatigue_after_impressions
        cooldown = rules.fatigue_cooldown_hours * HOUR
        out.update(i for i, (streak, last) in self.streaks.items()
                   if limit > 0 and streak >= limit and now - last < cooldown)
        return out

    def streak(self, item_id: str) -> int:
        """Return impressions of ``item_id`` since its last engagement."""
        return self.streaks.get(item_id, (0, 0.0))[0]

    def record_impression(self, item_id: str, categories: tuple[str, ...], at: float,
                          pending: Pending) -> None:
        """Count one impression and keep its features for feedback."""
        self.impressions.append((item_id, categories, at))
        self.streaks[item_id] = (self.streak(item_id) + 1, at)
        self.pending[item_id] = pending

    def record_outcome(self, item_id: str, *, engaged: bool, dismissed: bool, at: float) -> None:
        """Apply engagement (resets fatigue) or dismissal (starts suppression)."""
        if engaged:
            self.streaks.pop(item_id, None)
        if dismissed:
            self.dismissed[item_id] = at

    def prune(self, now: float, rules: PersonalizationRules, *, examples_ttl: float) -> None:
        """Drop everything older than the windows that still need it.

        Parameters
        ----------
        now : float
            Current time, seconds since the epoch.
        rules : PersonalizationRules
            Caps, suppression and fatigue windows.
        examples_ttl : float
            Seconds training examples are kept (the policy's retention).
        """
        self.impressions = [imp for imp in self.impressions if now - imp[2] < DAY]
        keep = max(rules.fatigue_cooldown_hours * HOUR, DAY)
        self.streaks = {i: s for i, s in self.streaks.items() if now - s[1] < keep}
        self.dismissed = {i: at for i, at in self.dismissed.items()
                          if now - at < rules.dismissal_suppression_hours * HOUR}
        self.pending = {i: p for i, p in self.pending.items() if now - p.at < DAY}
        self.examples = [e for e in self.examples if now - e.at < examples_ttl]

    def to_dict(self) -> dict[str, Any]:
        """Return the state as msgpack/JSON-ready data (no tuples, no text)."""
        return {
            "format": FORMAT,
            "impressions": [[i, list(c), at] for i, c, at in self.impressions],
            "streaks": {i: [n, at] for i, (n, at) in self.streaks.items()},
            "dismissed": dict(self.dismissed),
            "pending": {i: {"x": list(p.x), "at": p.at, "personalized": p.personalized}
                        for i, p in self.pending.items()},
            "examples": [{"x": list(e.x), "y": e.y, "at": e.at, "trained": e.trained}
                         for e in self.examples],
            "outcomes": copy.deepcopy(self.outcomes),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SelectionState:
        """Restore a state saved with :meth:`to_dict`.

        Raises
        ------
        SelectionStateError
            Naming the section that is malformed.
        """
        section = "format"
        try:
            if data.get("format") != FORMAT:
                raise TypeError("unsupported format")
            section = "impressions"
            impressions = [(str(i), tuple(str(c) for c in cats), _time(at))
                           for i, cats, at in data.get("impressions", [])]
            section = "streaks"
            streaks = {str(i): (int(n), _time(at))
                       for i, (n, at) in data.get("streaks", {}).items()}
            section = "dismissed"
            dismissed = {str(i): _time(at) for i, at in data.get("dismissed", {}).items()}
            section = "pending"
            pending = {str(i): Pending(_row(p["x"]), _time(p["at"]), bool(p["personalized"]))
                       for i, p in data.get("pending", {}).items()}
            section = "examples"
            examples = [TrainingExample(_row(e["x"]), float(e["y"]), _time(e["at"]),
                                        bool(e.get("trained", False)))
                        for e in data.get("examples", [])]
            section = "outcomes"
            outcomes = data.get("outcomes", {})
            if not isinstance(outcomes, dict):
                raise TypeError("outcomes must be a mapping")
        except (TypeError, ValueError, KeyError, AttributeError):
            message = f"selection state: section {section!r} is malformed"
            raise SelectionStateError(message) from None
        return cls(impressions, streaks, dismissed, pending, examples, copy.deepcopy(outcomes))


def _time(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise TypeError("time must be a finite number")
    return float(value)


def _row(values: Iterable[object]) -> tuple[float, ...]:
    row = tuple(float(v) for v in values)  # type: ignore[arg-type]  # checked just below
    if not all(math.isfinite(v) for v in row):
        raise ValueError("non-finite feature")
    return row
