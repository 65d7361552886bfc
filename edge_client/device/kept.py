"""What a device keeps besides its policy and consent: profile times, data sections, audit.

:class:`KeptData` is the in-memory side of the store sections ``profile`` (the counts live
in the :class:`~edge_client.profiler.EdgeProfiler`; this class keeps when they were last
added to and decayed), ``caps``, ``feedback``, ``training_examples`` and ``audit``. It
restores them from a state that retention has already been applied to, ages the profile
before new evidence is added, and writes them back as sections.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from edge_client.behaviour.counts import BehaviourCounts
from edge_client.behaviour.errors import BehaviourFormatError
from edge_client.device.audit import MAX_AUDIT_ENTRIES, audit_enabled, audit_entry
from edge_client.device.errors import DeviceError
from edge_client.device.retention import profile_weight
from edge_client.device.sections import DataSection, Section, check_plain
from edge_client.policy.engine import PolicyEngine
from edge_client.policy.model import DeviceAuditEvent, Purpose, StoredItem
from edge_client.profiler import EdgeProfiler
from edge_client.store.codec import counts_from_dict, counts_to_dict

__all__ = ["LIST_SECTIONS", "KeptData"]

LIST_SECTIONS: Mapping[DataSection, StoredItem] = {
    DataSection.FEEDBACK: StoredItem.ENGAGEMENT_EVENTS,
    DataSection.TRAINING_EXAMPLES: StoredItem.TRAINING_EXAMPLES,
}
"""Data sections that are lists of timestamped records, and what bounds their retention."""


def _plain_records(
    kept: Mapping[str, Any], section: Section, problems: list[str]
) -> list[dict[str, Any]]:
    """Return copies of a list section's records that are plain data; report the others."""
    records = kept.get(section.value, [])
    if not isinstance(records, list):
        problems.append(f"Section {section.value!r} was malformed and was dropped.")
        return []
    good: list[dict[str, Any]] = []
    for record in records:
        try:
            if not isinstance(record, dict):
                raise DeviceError("not a mapping")
            check_plain(record, f"section {section.value!r}")
        except DeviceError:
            continue
        good.append(copy.deepcopy(record))
    if len(good) != len(records):
        problems.append(
            f"{len(records) - len(good)} malformed record(s) in section {section.value!r} "
            "were dropped."
        )
    return good


class KeptData:
    """Profile timestamps, data sections and the audit log of one device (in memory)."""

    def __init__(self) -> None:
        self.observed_at: float | None = None
        self.decayed_at: float | None = None
        self.data: dict[DataSection, Any] = {
            DataSection.CAPS: {},
            DataSection.FEEDBACK: [],
            DataSection.TRAINING_EXAMPLES: [],
        }
        self.audit_log: list[dict[str, Any]] = []

    def restore(self, kept: Mapping[str, Any], profiler: EdgeProfiler) -> list[str]:
        """Replace everything with the sections of ``kept`` and load the profile counts.

        Parameters
        ----------
        kept : Mapping[str, Any]
            A state that :func:`~edge_client.device.retention.apply_retention` returned.
        profiler : EdgeProfiler
            Receives the stored counts (reset first).

        Returns
        -------
        list of str
            What had to be dropped, in plain words.
        """
        problems: list[str] = []
        self.observed_at = self.decayed_at = None
        profiler.reset()
        profile = kept.get(Section.PROFILE.value)
        if profile is not None:
            if profiler.consent.allows(Purpose.PROFILING):
                profiler.observe_counts(counts_from_dict(profile["counts"]))
                if "behaviour" in profile:
                    try:
                        profiler.observe_behaviour(BehaviourCounts.from_dict(profile["behaviour"]))
                    except BehaviourFormatError as exc:
                        problems.append(f"{exc}; the stored behaviour counts were dropped.")
                self.observed_at = float(profile["observed_at"])
                self.decayed_at = float(profile["decayed_at"])
            else:
                problems.append("Profiling consent is not given: the stored profile was dropped.")
        caps = kept.get(Section.CAPS.value, {})
        try:
            if not isinstance(caps, dict):
                raise DeviceError("section 'caps': must be a mapping")
            check_plain(caps, "section 'caps'")
        except DeviceError as exc:
            problems.append(f"{exc}; the cap counters were reset.")
            caps = {}
        self.data = {
            DataSection.CAPS: copy.deepcopy(caps),
            DataSection.FEEDBACK: _plain_records(kept, Section.FEEDBACK, problems),
            DataSection.TRAINING_EXAMPLES: _plain_records(
                kept, Section.TRAINING_EXAMPLES, problems
            ),
        }
        self.audit_log = _plain_records(kept, Section.AUDIT, problems)
        return problems

    def decay_to(self, profiler: EdgeProfiler, engine: PolicyEngine, *, now: float) -> None:
        """Age the profile counts to ``now`` (drop them once expired) before new evidence.

        A profile the policy does not keep lives for the session only and is not aged.
        """
        if self.observed_at is None or self.decayed_at is None:
            return
        if StoredItem.PROFILE not in engine.retention.keep:
            return
        weight = profile_weight(
            engine, now=now, observed_at=self.observed_at, decayed_at=self.decayed_at
        )
        if weight <= 0.0:
            profiler.reset()
            self.observed_at = self.decayed_at = None
            return
        if weight < 1.0:
            profiler.decay(weight)
        self.decayed_at = max(now, self.decayed_at)

    def mark_observed(self, now: float) -> None:
        """Record that new evidence was added at ``now``."""
        self.observed_at = now
        if self.decayed_at is None:
            self.decayed_at = now

    def forget_profile(self, profiler: EdgeProfiler) -> None:
        """Drop the profile counts and their timestamps."""
        profiler.reset()
        self.observed_at = self.decayed_at = None

    def audit(
        self,
        engine: PolicyEngine,
        event: DeviceAuditEvent,
        action: str,
        *,
        at: float,
        count: int | None = None,
    ) -> bool:
        """Append an audit entry when the policy logs ``event``; return whether it did.

        Raises
        ------
        DeviceError
            When the entry is malformed (see :func:`~edge_client.device.audit.audit_entry`).
        """
        entry = audit_entry(event, action, at=at, count=count)
        if not audit_enabled(engine, event):
            return False
        self.audit_log.append(entry)
        del self.audit_log[:-MAX_AUDIT_ENTRIES]
        return True

    def sections(self, profiler: EdgeProfiler, keep: frozenset[StoredItem]) -> dict[str, Any]:
        """Return the sections to store: ``caps`` always, the others when ``keep`` lists them.

        Parameters
        ----------
        profiler : EdgeProfiler
            Holds the profile counts.
        keep : frozenset of StoredItem
            What the policy keeps.

        Returns
        -------
        dict[str, Any]
            Deep copies, ready for the store.
        """
        state: dict[str, Any] = {Section.CAPS.value: copy.deepcopy(self.data[DataSection.CAPS])}
        if StoredItem.PROFILE in keep and self.observed_at is not None:
            state[Section.PROFILE.value] = {
                "counts": counts_to_dict(profiler.counts),
                "observed_at": self.observed_at,
                "decayed_at": self.decayed_at,
            }
            behaviour = profiler.behaviour
            if behaviour:
                state[Section.PROFILE.value]["behaviour"] = behaviour.to_dict()
        for section, item in LIST_SECTIONS.items():
            if item in keep:
                state[section.value] = copy.deepcopy(self.data[section])
        if StoredItem.AUDIT_LOG in keep:
            state[Section.AUDIT.value] = copy.deepcopy(self.audit_log)
        return state
