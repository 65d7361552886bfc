from dataclasses import replace
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest

from edge_client import EdgeProfiler
from edge_client.audit import Arm, OutcomeRecorder
from edge_client.policy import OutcomeAuditRules, Preset, Purpose, load_preset
from edge_client.selection import PersonalizedFeed, SelectionState, load_sample_catalog

DAY = 86400.0
T0 = datetime(2025, 3, 3, 9, 0, tzinfo=timezone.utc)
TEXT = (
    "I compared the specifications of three touring motorcycles: engine torque, weight, "
    "fuel range and the price of the service plan. The spreadsheet made the choice easy. "
) * 8


def _rules(**changes: object) -> OutcomeAuditRules:
    return replace(load_preset(Preset.DEFAULT).audit.outcomes, **changes)  # type: ignore[arg-type]  # field values


def test_exposure_bins_and_one_outcome_per_impression() -> None:
    """The same item shown again moves up a bin; an outcome is counted once."""
    state: dict[str, object] = {}
    recorder = OutcomeRecorder(_rules(control_share=0.0), state, np.random.default_rng(0))
    for k in range(5):
        recorder.shown("a", "analytical", sponsored=True, now=1000.0 + k)
    recorder.outcome("a", engaged=True, dismissed=False, now=1010.0)
    recorder.outcome("a", engaged=True, dismissed=False, now=1011.0)  # no pending: ignored
    counts, arm = recorder.window()
    assert arm is Arm.PERSONALIZED
    assert counts[0, 1, :, 0].tolist() == [1, 1, 1, 2]
    assert counts[..., 1].sum() == 1 and counts[0, 1, 3, 1] == 1


def test_control_share_draws_the_arm_per_window() -> None:
    """With share 1 every window is control; windows roll after two cadences."""
    rules = _rules(control_share=1.0)
    state: dict[str, object] = {}
    recorder = OutcomeRecorder(rules, state, np.random.default_rng(0))
    assert recorder.in_control(0.0)
    recorder.shown("a", "generic", sponsored=False, now=1.0)
    assert recorder.window()[0].sum() == 1
    assert recorder.in_control(2 * rules.cadence_days * DAY + 10)  # a new window
    assert recorder.window()[0].sum() == 0
    assert not OutcomeRecorder(_rules(control_share=0.0), {}, np.random.default_rng(0)).in_control(
        0
    )


def test_close_window_remembers_the_round_and_starts_fresh() -> None:
    """Contributing ends the window; old rounds fall out of the period."""
    rules = _rules(control_share=0.0)
    recorder = OutcomeRecorder(rules, {}, np.random.default_rng(0))
    recorder.shown("a", "emotional", sponsored=False, now=5.0)
    recorder.close_window(10.0)
    recorder.close_window(10.0 + 40 * DAY)
    assert recorder.window()[0].sum() == 0
    assert recorder.rounds == (10.0 + 40 * DAY,)


@pytest.mark.parametrize(
    "state",
    [
        {"format": 9},
        {"format": 1, "counts": [1.0] * 3, "arm": "personalized", "window_start": 0.0},
        {"format": 1, "counts": [-1.0] * 72, "arm": "personalized", "window_start": 0.0},
        {"format": 1, "counts": [0.0] * 72, "arm": "both", "window_start": 0.0},
        {
            "format": 1,
            "counts": [0.0] * 72,
            "arm": "control",
            "window_start": 0.0,
            "pending": {"a": [9, 0, 0]},
        },
    ],
)
def test_malformed_state_is_reset(state: dict[str, object]) -> None:
    """A damaged stored state is replaced by a fresh window, never half-read."""
    recorder = OutcomeRecorder(_rules(control_share=0.0), state, np.random.default_rng(0))
    assert recorder.window()[0].sum() == 0 and state.get("format") in (None, 1)


def test_feed_counts_outcomes_in_its_state() -> None:
    """PersonalizedFeed records impressions and engagement; the state round-trips."""
    profiler = EdgeProfiler(consent=[Purpose.PROFILING, Purpose.PERSONALIZATION])
    profiler.observe(TEXT)
    feed = PersonalizedFeed(profiler, rng=np.random.default_rng(3))
    assert feed.outcomes is not None
    picks = feed.select(load_sample_catalog(), k=3, now=T0)
    feed.feedback(picks.choices[0].item.id, engaged=True, now=T0 + timedelta(minutes=1))
    counts, _ = feed.outcomes.window()
    assert counts[..., 0].sum() == len(picks.choices) and counts[..., 1].sum() == 1
    restored = SelectionState.from_dict(feed.state.to_dict())
    assert restored.outcomes == feed.state.outcomes


def test_no_personalization_consent_nothing_is_counted() -> None:
    """Without the personalization opt-in the person is not in the audit at all."""
    profiler = EdgeProfiler(consent=[Purpose.PROFILING])
    profiler.observe(TEXT)
    feed = PersonalizedFeed(profiler, rng=np.random.default_rng(3))
    feed.select(load_sample_catalog(), k=3, now=T0)
    assert feed.outcomes is not None and feed.outcomes.window()[0].sum() == 0
