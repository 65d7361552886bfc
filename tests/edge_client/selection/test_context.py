"""Context-aware selection: time of day and device class through the ranking features."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timezone

import numpy as np

from edge_client import EdgeProfiler
from edge_client.behaviour import DeviceUse, View
from edge_client.policy import Policy, Preset, Purpose, Signal, SignalRules, load_preset
from edge_client.selection import Catalog, FallbackCause, PersonalizedFeed, parse_catalog
from edge_client.selection.features import DENSE_FEATURES, DenseFeature
from edge_client.selection.model import load_ranking_model

MORNING = datetime(2025, 1, 6, 8, 0, tzinfo=timezone.utc)
EVENING = datetime(2025, 1, 6, 20, 0, tzinfo=timezone.utc)
TEXT = (
    "I compare the specifications of cars and motorcycles before I buy: engine torque, "
    "weight, fuel range and the price of the service plan all go into my spreadsheet. "
) * 6


def _policy(*extra: Signal) -> Policy:
    """The default preset allowing views plus ``extra`` signals; no audits, no exploration."""
    policy = load_preset(Preset.DEFAULT)
    policy = replace(policy, personalization=replace(policy.personalization, exploration_share=0))
    allowed = {Signal.POST_TEXT, Signal.CONTENT_CATEGORIES_VIEWED, *extra}
    signals = SignalRules(allowed=frozenset(allowed), forbidden=frozenset(set(Signal) - allowed))
    audit = replace(policy.audit, outcomes=replace(policy.audit.outcomes, enabled=False))
    return replace(policy, signals=signals, audit=audit)


def _catalog() -> Catalog:
    def item(ident: str, node: str) -> str:
        return json.dumps(
            {
                "id": ident,
                "categories": [node],
                "popularity": 0.5,
                "variants": {"analytical": {"title": "a"}, "emotional": {"title": "e"}},
            }
        )

    return parse_catalog([item("car", "1"), item("bike", "27"), item("ball", "545")])


def _profiler(policy: Policy) -> EdgeProfiler:
    profiler = EdgeProfiler(policy=policy, consent=[Purpose.PROFILING, Purpose.PERSONALIZATION])
    profiler.observe(TEXT)
    for _ in range(12):  # baseball in the evening, cars in the morning
        profiler.record(View("545", dwell_seconds=60, at=EVENING))
        profiler.record(View("1", dwell_seconds=60, at=MORNING))
    return profiler


def _ranks(profiler: EdgeProfiler, moment: datetime) -> tuple[list[str], str]:
    feed = PersonalizedFeed(profiler, rng=np.random.default_rng(0))
    picks = feed.select(_catalog(), k=3, now=moment)
    explained = {c.item.id: c.reason for c in picks.choices if not c.explored}
    order = [c.item.id for c in picks.choices if not c.explored]
    return order, explained.get("ball", "")


def test_time_of_day_changes_the_ranking_only_when_context_is_allowed() -> None:
    """Evening favours what the person engages with in the evening, with the reason shown."""
    allowed = _profiler(_policy(Signal.CONTEXT))
    morning, _ = _ranks(allowed, MORNING)
    evening, reason = _ranks(allowed, EVENING)
    assert morning.index("car") < morning.index("ball")
    assert evening.index("ball") < evening.index("car")
    assert "more in the evening than at other times" in reason
    forbidden = _profiler(_policy())
    assert _ranks(forbidden, MORNING)[0] == _ranks(forbidden, EVENING)[0]
    assert "evening" not in _ranks(forbidden, EVENING)[1]


def test_device_class_needs_the_device_signal() -> None:
    """The device affinity is non-zero only under the 'device' signal."""
    policy = _policy(Signal.DEVICE)
    profiler = EdgeProfiler(policy=policy, consent=[Purpose.PROFILING, Purpose.PERSONALIZATION])
    profiler.observe(TEXT)
    profiler.record(DeviceUse("tv"))
    for _ in range(10):
        profiler.record(View("545", dwell_seconds=60))
    profiler.record(DeviceUse("phone"))
    profiler.record(DeviceUse("phone"))
    for _ in range(10):
        profiler.record(View("1", dwell_seconds=60))
    feed = PersonalizedFeed(profiler, rng=np.random.default_rng(0))
    picks = feed.select(_catalog(), k=3, now=EVENING)
    reasons = " ".join(c.reason for c in picks.choices)
    assert "on your phone" in reasons and "evening" not in reasons


def test_ranking_model_has_context_features_with_unit_prior() -> None:
    """ranking.tflite carries the two context features, each with prior weight 1."""
    model = load_ranking_model()
    v = model.get_weights()["v"]
    for feature in (DenseFeature.TIME_AFFINITY, DenseFeature.DEVICE_AFFINITY):
        assert v[DENSE_FEATURES.index(feature)] == 1.0


def test_control_group_gets_generic_picks_with_the_reason() -> None:
    """A control window shows generic content and says why."""
    profiler = _profiler(_policy(Signal.CONTEXT))
    feed = PersonalizedFeed(profiler, rng=np.random.default_rng(0))
    picks = feed.selector.select(profiler.profile(), _catalog(), k=2, now=EVENING, control=True)
    assert picks.fallback is FallbackCause.CONTROL_GROUP and not picks.personalized
    assert all("small random group" in c.reason for c in picks.choices)
