"""Boundaries hold: special-category views leave no trace in anything kept or sent."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np
from flwr.app import Array, ConfigRecord, Context, Message, MessageType, RecordDict
from flwr.supercore.task_identity import TaskIdentity

from edge_client.audit import AuditKey, StoreAuditSource, required_noise_multiplier
from edge_client.audit.app import CONFIG_RECORD, handle_query
from edge_client.behaviour import View
from edge_client.device import Device
from edge_client.policy import Policy, Purpose
from edge_client.selection import PersonalizedFeed, load_sample_catalog

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=timezone.utc)
TEXT = (
    "I compared the specifications of three touring motorcycles: engine torque, weight, "
    "fuel range and the price of the service plan. The spreadsheet made the choice easy. "
) * 8
SPECIAL = ("286", "386", "388", "453", "457", "459")  # health, politics, religion


class Clock:
    """A fixed clock."""

    def __call__(self) -> datetime:
        """Return T0."""
        return T0


class SeededSource(StoreAuditSource):
    """The device's audit source with a fixed noise seed, to compare bytes."""

    def noise(self) -> np.random.Generator:
        """Return the same generator for both devices."""
        return np.random.default_rng(11)


def _device(
    folder: Path, policy: Policy, *, special_views: int
) -> tuple[Device, dict[str, Any], bytes]:
    device = Device(folder, clock=Clock(), policy=policy)
    device.grant(Purpose.PROFILING)
    device.grant(Purpose.PERSONALIZATION)
    device.observe(TEXT)
    for k in range(special_views):
        assert not device.record(View(SPECIAL[k % len(SPECIAL)], dwell_seconds=300)).stored
    feed = PersonalizedFeed(device.profiler, rng=np.random.default_rng(5))
    picks = feed.select(load_sample_catalog(), k=3, now=T0)
    feed.feedback(picks.choices[0].item.id, engaged=True, now=T0 + timedelta(minutes=2))
    device.keep_selection_state(feed.state.to_dict())
    kept = device.export()
    rules = policy.audit.outcomes
    config: dict[str, Any] = {
        AuditKey.POLICY_HASH.value: device.engine.policy_hash,
        AuditKey.QUESTIONS.value: "exposure,offers,engagement,fatigue,lift",
        AuditKey.NOISE_MULTIPLIER.value: required_noise_multiplier(rules),
        AuditKey.MIN_REPLIES.value: rules.min_cohort,
        AuditKey.SAMPLING_RATE.value: rules.sampling_rate,
        AuditKey.ROUND.value: 1,
    }
    query = Message(
        RecordDict({CONFIG_RECORD: ConfigRecord(config)}),
        dst_node_id=1,
        message_type=MessageType.QUERY,
    )
    reply = handle_query(SeededSource(device), query, Context(1, 1, {}, RecordDict(), {}))
    assert not reply.has_error()
    values = reply.content.array_records["contribution"]["values"]
    assert isinstance(values, Array)
    return device, kept, values.numpy().tobytes()


def test_special_category_viewer_keeps_and_sends_what_a_non_viewer_does(
    tmp_path: Path, open_policy: Policy
) -> None:
    """Fifty health/politics/religion views: same profile, store and audit reply bytes."""
    TaskIdentity.run_id, TaskIdentity.node_id, TaskIdentity.task_id = 1, 1, 1  # as a SuperLink
    viewer, kept_viewer, sent_by_viewer = _device(tmp_path / "v", open_policy, special_views=50)
    other, kept_other, sent_by_other = _device(tmp_path / "o", open_policy, special_views=0)
    assert viewer.profile() == other.profile()
    assert all(viewer.engine.is_interest_allowed(i.id) for i in viewer.profile().interests)
    assert dict(viewer.profiler.behaviour.items()) == dict(other.profiler.behaviour.items())
    for section in ("profile", "caps", "training_examples"):
        assert json.dumps(kept_viewer.get(section), sort_keys=True) == json.dumps(
            kept_other.get(section), sort_keys=True
        ), section
    assert sent_by_viewer == sent_by_other
