from datetime import datetime, timezone

import pytest

from edge_client import EdgeProfiler
from edge_client.behaviour import (
    BehaviourCounts,
    BehaviourError,
    BehaviourFormatError,
    ContextEvent,
    CountKind,
    DeviceUse,
    ForbiddenSignalError,
    Purchase,
    Session,
    View,
    current_device,
)
from edge_client.errors import ArgumentError
from edge_client.policy import ConsentError, Policy, PolicyError, Purpose

EVENING = datetime(2025, 1, 6, 20, 0, tzinfo=timezone.utc)


def test_forbidden_signal_is_refused_and_nothing_is_stored() -> None:
    """Under the default policy a purchase is refused with a PolicyError naming the signal."""
    profiler = EdgeProfiler(consent=[Purpose.PROFILING])
    profiler.record(View("483"))
    before = dict(profiler.behaviour.items())
    with pytest.raises(ForbiddenSignalError, match="'purchases'") as caught:
        profiler.record(Purchase("473", amount=20))
    assert isinstance(caught.value, PolicyError)
    with pytest.raises(ForbiddenSignalError, match="'context'"):
        profiler.record(ContextEvent("buying", at=EVENING))
    assert dict(profiler.behaviour.items()) == before


def test_without_consent_nothing_is_stored() -> None:
    """Without the profiling opt-in an event is refused with ConsentError."""
    profiler = EdgeProfiler()
    with pytest.raises(ConsentError):
        profiler.record(View("483"))
    assert not profiler.behaviour


def test_special_category_views_leave_no_trace(open_policy: Policy) -> None:
    """Views of health, politics and religion (and descendants) are never counted."""
    profiler = EdgeProfiler(policy=open_policy, consent=[Purpose.PROFILING])
    profiler.record(DeviceUse("phone"))
    for node in ("286", "386", "388", "459", "457"):
        result = profiler.record(View(node, dwell_seconds=300, at=EVENING))
        assert (result.stored, result.blocked) == (False, 1)
    mixed = profiler.record(Purchase(("286", "473"), amount=12))
    assert (mixed.stored, mixed.blocked) == (True, 1)
    keys = [key for key, _ in profiler.behaviour.items()]
    assert not any(node in key for key in keys for node in ("286", "386", "388", "459", "457"))
    assert profiler.profile().interests and all(
        profiler.engine.is_interest_allowed(i.id) for i in profiler.profile().interests
    )


def test_unknown_category_and_wrong_type_are_refused() -> None:
    """An unknown node id or a non-event is refused before anything is counted."""
    profiler = EdgeProfiler(consent=[Purpose.PROFILING])
    with pytest.raises(BehaviourError, match="unknown taxonomy node"):
        profiler.record(View(("483", "not-a-node")))
    with pytest.raises(ArgumentError):
        profiler.record("viewed sports")  # type: ignore[arg-type]  # refused at run time
    assert not profiler.behaviour


def test_context_and_device_are_kept_only_when_allowed(open_policy: Policy) -> None:
    """Time-of-day and device-class engagement counts exist only under their signals."""
    default = EdgeProfiler(consent=[Purpose.PROFILING])
    default.record(View("483", at=EVENING, device="phone"))
    assert not default.behaviour.of_kind(CountKind.ENGAGED_TIME)
    assert not default.behaviour.of_kind(CountKind.ENGAGED_DEVICE)
    profiler = EdgeProfiler(policy=open_policy, consent=[Purpose.PROFILING])
    profiler.record(DeviceUse("tablet"))
    profiler.record(View("483", dwell_seconds=60, at=EVENING))
    profiler.record(Session(600, at=EVENING))
    profiler.record(ContextEvent("buying", at=EVENING))
    counts = profiler.behaviour
    assert counts.get(CountKind.ENGAGED_TIME, "evening", "483") == 2.0
    assert counts.get(CountKind.ENGAGED_DEVICE, "tablet", "483") == 2.0
    assert counts.get(CountKind.SESSION_TIME, "evening") == 1.0
    assert counts.get(CountKind.INTENT, "buying") == 1.0
    assert current_device(counts).value == "tablet"  # type: ignore[union-attr]  # recorded


def test_counts_decay_and_reset_with_the_profile() -> None:
    """decay() scales behaviour like text; reset() forgets it."""
    profiler = EdgeProfiler(consent=[Purpose.PROFILING])
    profiler.record(View("483", dwell_seconds=60))
    profiler.decay(0.5)
    assert profiler.behaviour.get(CountKind.VIEW, "483") == pytest.approx(1.0)
    profiler.reset()
    assert not profiler.behaviour


def test_counts_codec_refuses_malformed_data() -> None:
    """Stored counts are decoded field by field; anything malformed is refused as a whole."""
    counts = BehaviourCounts()
    counts.add(CountKind.VIEW, "483", weight=2.0)
    assert dict(BehaviourCounts.from_dict(counts.to_dict()).items()) == {"view:483": 2.0}
    for bad in (
        None,
        {"format": 2, "counts": {}},
        {"format": 1, "counts": {"view:483": -1.0}},
        {"format": 1, "counts": {"view:483": float("inf")}},
        {"format": 1, "counts": {"view 483": 1.0}},
        {"format": 1, "counts": {"engaged_time:483": 1.0}},
        {"format": 1, "counts": {"nonsense:483": 1.0}},
        {"format": 1, "counts": {f"view:{i}": 1.0 for i in range(5000)}},
        {"format": 1, "counts": {"view:483": True}},
    ):
        with pytest.raises(BehaviourFormatError):
            BehaviourCounts.from_dict(bad)


def test_counts_stay_bounded() -> None:
    """Past MAX_KEYS distinct keys the weakest counts are dropped."""
    counts = BehaviourCounts()
    for i in range(3000):
        counts.add(CountKind.VIEW, str(i), weight=float(i))
    assert len(counts) <= 2048
    assert counts.get(CountKind.VIEW, "2999") == 2999.0
