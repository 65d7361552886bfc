"""Device with the real selector: its state survives reopening, pause stops it, no canary."""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest

from edge_client.device import DataSection, Device
from edge_client.policy import Purpose
from edge_client.selection import PersonalizedFeed, SelectionState, load_sample_catalog
from edge_client.store import FileKeyProvider
from edge_client.store.format import unseal

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=timezone.utc)
CANARY = "kwyzcanary4d8e1f0a9"
TEXT = (
    "I compared the specifications of three touring motorcycles: engine torque, weight, "
    "fuel range and the price of the service plan. The spreadsheet made the choice easy. "
)


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        """Return the current fake time."""
        return self.now


def _device(data: Path, clock: FakeClock, text: str = TEXT * 8) -> Device:
    device = Device(data, clock=clock)
    device.grant(Purpose.PROFILING)
    device.grant(Purpose.PERSONALIZATION)
    assert device.observe(text)
    return device


def _select_and_engage(device: Device, now: datetime) -> PersonalizedFeed:
    feed = PersonalizedFeed(device.profiler, rng=np.random.default_rng(0))
    picks = feed.select(load_sample_catalog(), k=3, now=now)
    assert picks.choices
    for choice in picks.choices:
        feed.feedback(choice.item.id, engaged=choice is picks.choices[0], now=now)
    device.keep_selection_state(feed.state.to_dict())
    return feed


def test_selection_state_survives_reopen_and_examples_expire(tmp_path: Path) -> None:
    """Caps and examples come back equal; examples past their 14-day TTL are dropped."""
    clock = FakeClock()
    device = _device(tmp_path, clock)
    feed = _select_and_engage(device, T0)
    assert feed.state.examples, "feedback on shown items must record training examples"
    reopened = Device(tmp_path, clock=clock)
    restored = SelectionState.from_dict(reopened.selection_state())
    assert restored.to_dict() == feed.state.to_dict()
    assert len(reopened.data(DataSection.TRAINING_EXAMPLES)) == len(feed.state.examples)
    clock.now = T0 + timedelta(days=15)
    later = Device(tmp_path, clock=clock)
    assert later.data(DataSection.TRAINING_EXAMPLES) == []
    assert SelectionState.from_dict(later.selection_state()).examples == []


def test_no_selection_state_kept_gives_an_empty_mapping(tmp_path: Path) -> None:
    """A device that never kept a selector state returns {} (build a fresh selector)."""
    assert Device(tmp_path, clock=FakeClock()).selection_state() == {}


def test_pause_stops_personalized_selection(tmp_path: Path) -> None:
    """A selector on the device's profiler personalizes nothing while paused."""
    clock = FakeClock()
    device = _device(tmp_path, clock)
    feed = PersonalizedFeed(device.profiler, rng=np.random.default_rng(1))
    assert any(c.personalized for c in feed.select(load_sample_catalog(), k=5, now=T0).choices)
    device.pause()
    assert device.consent >= {Purpose.PERSONALIZATION}
    paused = feed.select(load_sample_catalog(), k=5, now=T0 + timedelta(hours=2))
    assert not any(c.personalized for c in paused.choices)
    assert Device(tmp_path, clock=clock).profiler.consent.allows(Purpose.PERSONALIZATION) is False
    device.resume()
    resumed = feed.select(load_sample_catalog(), k=5, now=T0 + timedelta(hours=4))
    assert any(c.personalized for c in resumed.choices)


def test_canary_through_profiling_selection_and_feedback(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A canary in the person's text is in no file, decrypted payload, export or log line."""
    caplog.set_level(logging.DEBUG)
    clock = FakeClock()
    device = _device(tmp_path, clock, text=f"{TEXT * 6} My password is {CANARY}. {CANARY}")
    _select_and_engage(device, T0)
    reopened = Device(tmp_path, clock=clock)
    feed = PersonalizedFeed(
        reopened.profiler, state=SelectionState.from_dict(reopened.selection_state())
    )
    feed.select(load_sample_catalog(), k=3, now=T0 + timedelta(minutes=5))
    reopened.keep_selection_state(feed.state.to_dict())
    exported = json.dumps(reopened.export())
    key = FileKeyProvider(tmp_path / "store.bin.key", create=False).load_key()
    files = sorted(p for p in tmp_path.rglob("*") if p.is_file())
    assert files
    for path in files:
        assert CANARY.encode() not in path.read_bytes().lower()
        if path.name in ("store.bin", "store.bin.prev"):
            sections = unseal(path.read_bytes(), key=key, path=path).sections
            assert CANARY not in json.dumps(sections, default=repr).lower()
    assert CANARY not in exported.lower() and "password" not in exported.lower()
    assert caplog.records
    assert CANARY not in "\n".join(r.getMessage() for r in caplog.records).lower()
