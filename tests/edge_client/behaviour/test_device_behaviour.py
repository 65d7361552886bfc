"""Behaviour on the app's Device: saved as decayed counts, exported, forgotten, refused."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from edge_client.behaviour import CountKind, ForbiddenSignalError, Purchase, View
from edge_client.device import Device
from edge_client.policy import Policy, Purpose
from edge_client.store import FileKeyProvider
from edge_client.store.cli import store
from edge_client.store.format import seal, unseal

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=timezone.utc)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        """Return the current fake time."""
        return self.now


def _device(data: Path, clock: Clock, **kwargs: Any) -> Device:
    device = Device(data, clock=clock, **kwargs)
    device.grant(Purpose.PROFILING)
    return device


def _sections(data: Path) -> dict[str, Any]:
    key = FileKeyProvider(data / "store.bin.key", create=False).load_key()
    path = data / "store.bin"
    return dict(unseal(path.read_bytes(), key=key, path=path).sections)


def test_counts_survive_reopen_and_decay_with_the_profile(tmp_path: Path) -> None:
    """Recorded views come back after reopening, halved after one half-life (14 days)."""
    clock = Clock()
    device = _device(tmp_path, clock)
    for _ in range(8):
        assert device.record(View("545", dwell_seconds=30)).stored
    assert _sections(tmp_path)["profile"]["behaviour"]["counts"]["view:545"] == 8.0
    clock.now = T0 + timedelta(days=14)
    reopened = Device(tmp_path, clock=clock)
    assert reopened.profiler.behaviour.get(CountKind.VIEW, "545") == pytest.approx(4.0)
    assert reopened.profile().interests[0].id == "483"  # Baseball views: the Sports node
    clock.now = T0 + timedelta(days=91)  # past retention.profile_ttl_days without new evidence
    assert not Device(tmp_path, clock=clock).profiler.behaviour


def test_export_holds_counts_never_events(tmp_path: Path, open_policy: Policy) -> None:
    """Export shows bucketed counts; the amount and the event time are nowhere."""
    device = _device(tmp_path, Clock(), policy=open_policy)
    device.record(Purchase("473", amount=123.45, at=T0 - timedelta(hours=3)))
    text = json.dumps(device.export())
    assert '"purchase:473": 1.0' in text and '"amount:50_to_200": 1.0' in text
    assert "123.45" not in text and str((T0 - timedelta(hours=3)).timestamp()) not in text


def test_refusals_store_nothing(tmp_path: Path) -> None:
    """A forbidden signal changes nothing on disk; neither does an event while paused."""
    device = _device(tmp_path, Clock())
    device.record(View("545"))
    before = (tmp_path / "store.bin").read_bytes()
    with pytest.raises(ForbiddenSignalError):
        device.record(Purchase("473", amount=5))
    assert (tmp_path / "store.bin").read_bytes() == before
    device.pause()
    paused = (tmp_path / "store.bin").read_bytes()
    assert not device.record(View("545")).stored
    assert (tmp_path / "store.bin").read_bytes() == paused


def test_forget_and_revoke_erase_behaviour(tmp_path: Path) -> None:
    """Revoking profiling drops the counts (also from the previous generation); forget too."""
    device = _device(tmp_path, Clock())
    device.record(View("545"))
    device.revoke(Purpose.PROFILING)
    assert not device.profiler.behaviour
    assert "profile" not in _sections(tmp_path)
    device.grant(Purpose.PROFILING)
    device.record(View("545"))
    device.forget()
    assert not (tmp_path / "store.bin").exists()
    assert not device.profiler.behaviour


def test_malformed_stored_behaviour_is_dropped_alone(tmp_path: Path) -> None:
    """A damaged behaviour section is reported and dropped; the text profile stays."""
    device = _device(tmp_path, Clock())
    device.observe("I compared the engines and the prices before buying the car.")
    device.record(View("545"))
    key = FileKeyProvider(tmp_path / "store.bin.key", create=False).load_key()
    sections = _sections(tmp_path)
    sections["profile"]["behaviour"] = {"format": 1, "counts": {"view:545": -5}}
    (tmp_path / "store.bin").write_bytes(seal(sections, key=key, generation=99))
    reopened = Device(tmp_path, clock=Clock())
    assert "behaviour counts were malformed" in reopened.report.describe()
    assert reopened.profile().words > 0 and not reopened.profiler.behaviour


def _run(data: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(store, ["--dir", str(data), "event", *args])
    return result.exit_code, result.stdout, result.stderr


def test_cli_event_needs_consent_and_refuses_forbidden_signals(tmp_path: Path) -> None:
    """`store event` refuses without consent, records with --grant, refuses purchases."""
    code, out, err = _run(tmp_path, "view", "--category", "545")
    assert (code, out) == (1, "") and "--grant" in err
    code, out, _ = _run(tmp_path, "view", "--category", "545", "--category", "286", "--grant")
    assert code == 0 and "1 category dropped" in out
    code, out, err = _run(tmp_path, "purchase", "--category", "473", "--amount", "9")
    assert (code, out) == (1, "") and "'purchases'" in err
    exported = json.loads(CliRunner().invoke(store, ["--dir", str(tmp_path), "export"]).stdout)
    counts = exported["profile"]["behaviour"]["counts"]
    assert sorted(counts) == ["view:545", "views:545"]
    assert counts["views:545"] == pytest.approx(1.0, abs=1e-3)
