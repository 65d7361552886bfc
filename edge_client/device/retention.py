"""Retention and decay from the policy, applied to a stored device state.

:func:`apply_retention` is what a device runs on every open: it drops every section the
policy's ``retention.keep`` does not list, drops the profile once it has had no new
evidence for ``retention.profile_ttl_days``, decays the rest of it (text and behaviour
counts) by the time elapsed since it was last decayed (half-life
``retention.profile_half_life_days``), and drops
feedback events, training examples and audit entries older than their time to live.
It is a pure function of the state, the policy and the time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, TypeGuard

from edge_client.behaviour.counts import BehaviourCounts
from edge_client.behaviour.errors import BehaviourFormatError
from edge_client.device.sections import TIMESTAMP_KEY, Section
from edge_client.policy.engine import PolicyEngine
from edge_client.policy.model import StoredItem
from edge_client.store.codec import SectionFormatError, counts_from_dict, counts_to_dict

__all__ = ["RECORD_SECTIONS", "RetentionReport", "apply_retention", "profile_weight"]

RECORD_SECTIONS: Mapping[Section, StoredItem] = {
    Section.FEEDBACK: StoredItem.ENGAGEMENT_EVENTS,
    Section.TRAINING_EXAMPLES: StoredItem.TRAINING_EXAMPLES,
    Section.AUDIT: StoredItem.AUDIT_LOG,
}
"""List sections of timestamped records, and the retention item that bounds each."""


@dataclass(frozen=True)
class RetentionReport:
    """What retention did to a stored state.

    Attributes
    ----------
    profile_factor : float or None
        The weight left on the stored profile's counts (1.0 = unchanged, 0.0 = dropped),
        ``None`` when there was no profile.
    dropped : dict of str to int
        Records dropped per list section because they expired or are not kept.
    problems : tuple of str
        Sections or records dropped because they were malformed (plain words, no values).
    """

    profile_factor: float | None = None
    dropped: dict[str, int] = field(default_factory=dict)
    problems: tuple[str, ...] = ()

    @property
    def removed_anything(self) -> bool:
        """Whether the profile or any record was dropped (not merely decayed)."""
        return self.profile_factor == 0.0 or any(self.dropped.values())

    def describe(self) -> list[str]:
        """Return what retention changed, one plain sentence per change."""
        lines: list[str] = []
        if self.profile_factor == 0.0:
            lines.append("The stored profile had expired (or is not kept) and was dropped.")
        elif self.profile_factor is not None and self.profile_factor < 0.9995:
            lines.append(
                f"The stored profile was decayed to {self.profile_factor:.1%} of its weight."
            )
        lines.extend(
            f"{count} {name.replace('_', ' ')} record(s) expired and were dropped."
            for name, count in sorted(self.dropped.items())
            if count
        )
        lines.extend(self.problems)
        return lines


def profile_weight(
    engine: PolicyEngine, *, now: float, observed_at: float, decayed_at: float
) -> float:
    """Return the weight left on profile counts last decayed at ``decayed_at``.

    Parameters
    ----------
    engine : PolicyEngine
        The policy in force.
    now, observed_at, decayed_at : float
        POSIX times: now, the last new evidence, and the last decay.

    Returns
    -------
    float
        0.0 when the profile is not kept or had no new evidence for longer than its time
        to live; otherwise ``engine.decay_factor(now - decayed_at)``.
    """
    ttl = engine.retention_ttl(StoredItem.PROFILE)
    if ttl <= timedelta(0) or timedelta(seconds=now - observed_at) > ttl:
        return 0.0
    return engine.decay_factor(timedelta(seconds=max(now - decayed_at, 0.0)))


def apply_retention(
    state: Mapping[str, Any], engine: PolicyEngine, *, now: float
) -> tuple[dict[str, Any], RetentionReport]:
    """Apply the policy's retention and decay to a stored state.

    Parameters
    ----------
    state : Mapping[str, Any]
        The sections as loaded (not modified).
    engine : PolicyEngine
        The policy in force.
    now : float
        POSIX time of the open.

    Returns
    -------
    tuple of (dict, RetentionReport)
        The state to keep and what was changed. The profile section, when kept, has its
        counts decayed and ``decayed_at`` set to ``now``.
    """
    kept = dict(state)
    problems: list[str] = []
    factor: float | None = None
    if Section.PROFILE.value in kept:
        factor, problem = _retain_profile(kept, engine, now=now)
        if problem:
            problems.append(problem)
    dropped: dict[str, int] = {}
    for section, item in RECORD_SECTIONS.items():
        if section.value not in kept:
            continue
        records = kept.pop(section.value)
        if not isinstance(records, list):
            problems.append(f"Section {section.value!r} was malformed and was dropped.")
            continue
        ttl = engine.retention_ttl(item).total_seconds()
        fresh = [r for r in records if _is_fresh(r, now=now, ttl=ttl)]
        malformed = sum(1 for r in records if _stamp(r) is None)
        if malformed:
            problems.append(
                f"{malformed} malformed record(s) in section {section.value!r} were dropped."
            )
        dropped[section.value] = len(records) - len(fresh) - malformed
        if item in engine.retention.keep:
            kept[section.value] = fresh
    return kept, RetentionReport(factor, dropped, tuple(problems))


def _retain_profile(
    state: dict[str, Any], engine: PolicyEngine, *, now: float
) -> tuple[float, str | None]:
    section = state.pop(Section.PROFILE.value)
    if not isinstance(section, dict):
        return 0.0, "The stored profile was malformed and was dropped."
    observed_at, decayed_at = section.get("observed_at"), section.get("decayed_at")
    if not _is_number(observed_at) or not _is_number(decayed_at):
        return 0.0, "The stored profile had no valid timestamps and was dropped."
    try:
        counts = counts_from_dict(section.get("counts"))
    except SectionFormatError as exc:
        return 0.0, f"The stored profile was malformed and was dropped ({exc})."
    problem = None
    behaviour = None
    if "behaviour" in section:  # behaviour counts decay with the profile's half-life
        try:
            behaviour = BehaviourCounts.from_dict(section["behaviour"])
        except BehaviourFormatError as exc:
            problem = f"The stored behaviour counts were malformed and were dropped ({exc})."
    factor = profile_weight(
        engine, now=now, observed_at=float(observed_at), decayed_at=float(decayed_at)
    )
    if factor > 0.0:
        counts.scale(factor)
        state[Section.PROFILE.value] = {
            "counts": counts_to_dict(counts),
            "observed_at": float(observed_at),
            "decayed_at": max(now, float(decayed_at)),
        }
        if behaviour is not None:
            behaviour.scale(factor)
            state[Section.PROFILE.value]["behaviour"] = behaviour.to_dict()
    return factor, problem


def _is_number(value: object) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _stamp(record: object) -> float | None:
    if not isinstance(record, dict):
        return None
    value = record.get(TIMESTAMP_KEY)
    return float(value) if _is_number(value) else None


def _is_fresh(record: object, *, now: float, ttl: float) -> bool:
    stamp = _stamp(record)
    return stamp is not None and ttl > 0 and now - stamp <= ttl
