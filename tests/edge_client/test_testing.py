"""Tests of the public test double for app developers."""

from __future__ import annotations

import pytest

from edge_client import EdgeProfiler, InputError
from edge_client.testing import FakeEdgeProfiler, make_profile


def test_fake_returns_the_scripted_profile_and_counts_observations() -> None:
    """The double returns what the test scripts and counts texts, not keeping them."""
    fake = FakeEdgeProfiler(make_profile(analytical=0.9, words=800, interests={"545": 0.7}))
    fake.observe("hello")
    fake.observe_many(["a", "b"])
    assert fake.observed_texts == 3 and fake.observed_characters == 7
    profile = fake.profile()
    assert profile.decision_style.leaning == "analytical"
    assert profile.interests[0].label == "Sports > Baseball"
    assert not hasattr(fake, "texts")


def test_fake_validates_like_the_real_profiler() -> None:
    """Bad input raises the same error type as the real profiler."""
    with pytest.raises(InputError):
        FakeEdgeProfiler().observe(b"bytes")  # type: ignore[arg-type]  # the point of the test


def test_make_profile_checks_ranges() -> None:
    """Out-of-range scores are refused."""
    with pytest.raises(ValueError, match="analytical"):
        make_profile(analytical=1.5)
    with pytest.raises(ValueError, match="score"):
        make_profile(interests={"545": 2.0})


def test_fake_has_the_real_public_methods() -> None:
    """Every public method of EdgeProfiler that apps call exists on the double."""
    for name in ("observe", "observe_many", "profile", "explain", "reset"):
        assert callable(getattr(FakeEdgeProfiler, name))
        assert callable(getattr(EdgeProfiler, name))


def test_fake_profiler_records_behaviour_events_like_the_real_one() -> None:
    """record() validates events as the real profiler does and counts them by kind."""
    from edge_client.behaviour import View
    from edge_client.errors import ArgumentError

    fake = FakeEdgeProfiler()
    assert fake.record(View("483")).stored
    assert fake.recorded_events == {"view": 1}
    with pytest.raises(ArgumentError):
        fake.record("viewed sports")  # type: ignore[arg-type]  # refused at run time
    fake.reset()
    assert fake.recorded_events == {}
