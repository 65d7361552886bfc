"""Device: state survives reopening, retention and decay on open, controls, data sections."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from edge_client.device import PAUSED_NOTE, DataSection, Device, DeviceError
from edge_client.policy import (
    ConsentError,
    DeviceAuditEvent,
    Policy,
    Preset,
    Purpose,
    parse_policy,
    policy_hash,
    preset_path,
    sign_policy,
)
from edge_client.store import FileKeyProvider
from edge_client.store.format import unseal

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=timezone.utc)
TEXT = (
    "Before buying the car I compared the specifications of three models in a table. "
    "The fuel consumption, the price per kilometre and the reliability statistics of each "
    "engine decided it. The data showed that the second model was cheaper over five years."
)


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        """Return the current fake time."""
        return self.now

    def advance(self, **delta: float) -> None:
        """Move the clock forward by a timedelta given as keywords."""
        self.now += timedelta(**delta)


def _policy(*edits: tuple[str, str]) -> Policy:
    text = preset_path(Preset.DEFAULT).read_text(encoding="utf-8")
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new)
    return parse_policy(text)


def _open(data: Path, clock: FakeClock, **kwargs: Any) -> Device:
    return Device(data, clock=clock, **kwargs)


def _profiled(data: Path, clock: FakeClock, **kwargs: Any) -> Device:
    device = _open(data, clock, **kwargs)
    device.grant(Purpose.PROFILING)
    assert device.observe(TEXT)
    return device


def _generations(data: Path) -> list[dict[str, Any]]:
    key = FileKeyProvider(data / "store.bin.key", create=False).load_key()
    return [
        unseal(path.read_bytes(), key=key, path=path).sections
        for path in (data / "store.bin", data / "store.bin.prev")
        if path.exists()
    ]


def test_state_survives_reopen(tmp_path: Path) -> None:
    """Profile, consent, pause, caps, feedback and examples come back after reopening."""
    clock = FakeClock()
    device = _profiled(tmp_path, clock)
    device.set_data(DataSection.CAPS, {"item:a1": {"day": 2, "hour": 1}, "hourly": [1, 2]})
    assert device.append_records(DataSection.FEEDBACK, [{"item": "a1", "engaged": True}]) == 1
    device.append_records(DataSection.TRAINING_EXAMPLES, [{"x": [1.0, 0.5], "y": 1}])
    before = device.profile()
    device.pause()
    reopened = _open(tmp_path, clock)
    assert reopened.report.ok and reopened.report.generation > 0
    assert reopened.consent == frozenset({Purpose.PROFILING})
    assert reopened.paused
    assert reopened.profiler.profile() == before
    assert reopened.data(DataSection.CAPS) == {"item:a1": {"day": 2, "hour": 1}, "hourly": [1, 2]}
    assert reopened.data(DataSection.FEEDBACK) == [
        {"item": "a1", "engaged": True, "at": T0.timestamp()}
    ]
    assert reopened.data(DataSection.TRAINING_EXAMPLES)[0]["y"] == 1


def test_first_open_of_an_empty_directory_writes_nothing(tmp_path: Path) -> None:
    """Opening and reading a new device creates no store and no key."""
    device = _open(tmp_path / "data", FakeClock())
    assert device.profile().words == 0
    assert device.report.ok and device.report.generation == 0
    assert not (tmp_path / "data").exists()


def test_retention_drops_expired_records_from_both_generations(tmp_path: Path) -> None:
    """Records past their TTL are gone on open, from the current and the previous file."""
    clock = FakeClock()
    device = _profiled(tmp_path, clock)
    device.append_records(DataSection.FEEDBACK, [{"item": "old"}])
    device.append_records(DataSection.TRAINING_EXAMPLES, [{"y": 0}])
    clock.advance(days=20)
    device.append_records(DataSection.FEEDBACK, [{"item": "new"}])
    clock.advance(days=15)  # old feedback is 35 days old (TTL 30), examples 35 (TTL 14)
    reopened = _open(tmp_path, clock)
    assert [e["item"] for e in reopened.data(DataSection.FEEDBACK)] == ["new"]
    assert reopened.data(DataSection.TRAINING_EXAMPLES) == []
    assert reopened.report.retention.dropped == {
        "feedback": 1, "training_examples": 1, "audit": 0
    }
    for sections in _generations(tmp_path):
        assert [e["item"] for e in sections["feedback"]] == ["new"]
        assert sections["training_examples"] == []


def test_profile_decays_on_open_by_the_half_life(tmp_path: Path) -> None:
    """After 28 days (two 14-day half-lives) a reopened profile weighs a quarter."""
    clock = FakeClock()
    words = _profiled(tmp_path, clock).profiler.counts.words
    clock.advance(days=28)
    reopened = _open(tmp_path, clock)
    assert reopened.report.retention.profile_factor == pytest.approx(0.25)
    assert reopened.profiler.counts.words == pytest.approx(words * 0.25)
    assert "decayed to 25.0%" in reopened.report.describe()


def test_decay_composes_across_opens(tmp_path: Path) -> None:
    """Opening at day 7 and again at day 14 gives the weight of one open at day 14."""
    clock = FakeClock()
    words = _profiled(tmp_path, clock).profiler.counts.words
    clock.advance(days=7)
    _open(tmp_path, clock)
    clock.advance(days=7)
    assert _open(tmp_path, clock).profiler.counts.words == pytest.approx(words * 0.5)


def test_profile_expires_after_ttl_without_new_evidence(tmp_path: Path) -> None:
    """A profile with no new text for more than 90 days is dropped on open and on disk."""
    clock = FakeClock()
    _profiled(tmp_path, clock)
    clock.advance(days=91)
    reopened = _open(tmp_path, clock)
    assert reopened.profiler.counts.words == 0
    assert reopened.report.retention.profile_factor == 0.0
    assert "expired" in reopened.report.describe()
    assert all("profile" not in sections for sections in _generations(tmp_path))


def test_observe_ages_old_evidence_before_adding_new(tmp_path: Path) -> None:
    """Text observed 14 days after the first counts the old text at half weight."""
    clock = FakeClock()
    device = _profiled(tmp_path, clock)
    words = device.profiler.counts.words
    clock.advance(days=14)
    device.observe(TEXT)
    assert device.profiler.counts.words == pytest.approx(words * 1.5)
    clock.advance(days=1)
    assert _open(tmp_path, clock).profiler.counts.words == pytest.approx(
        words * 1.5 * 0.5 ** (1 / 14)
    )


def test_profile_not_listed_in_keep_stays_in_memory_only(tmp_path: Path) -> None:
    """Under a policy that does not keep profiles, counts are never written to the store."""
    policy = _policy(('keep = ["profile", ', "keep = ["))
    clock = FakeClock()
    device = _profiled(tmp_path, clock, policy=policy)
    assert device.profile().words > 0
    assert all("profile" not in sections for sections in _generations(tmp_path))
    assert _open(tmp_path, clock).profiler.counts.words == 0


def test_pause_stops_profiling_and_personalization(tmp_path: Path) -> None:
    """While paused observe records nothing, nothing is usable, and records are refused."""
    clock = FakeClock()
    device = _profiled(tmp_path, clock)
    device.grant(Purpose.PERSONALIZATION)
    counts = device.profiler.counts
    device.pause()
    assert not device.observe(TEXT)
    assert device.observe_many([TEXT, TEXT]) == 0
    assert device.profiler.counts.words == counts.words
    assert device.profiler.counts.unigrams == counts.unigrams
    assert not device.profiling_allowed and not device.personalization_allowed
    assert device.profile().usable == frozenset() and PAUSED_NOTE in device.profile().notes
    assert device.append_records(DataSection.FEEDBACK, [{"item": "a"}]) == 0
    reopened = _open(tmp_path, clock)
    assert reopened.paused and not reopened.observe(TEXT)
    assert reopened.profiler.counts.words == counts.words
    reopened.resume()
    assert reopened.observe(TEXT) and reopened.personalization_allowed
    assert reopened.profiler.counts.words == pytest.approx(2 * counts.words)


def test_revoking_profiling_erases_the_profile_everywhere(tmp_path: Path) -> None:
    """Revoking the profiling opt-in drops the counts from memory and both store files."""
    clock = FakeClock()
    device = _profiled(tmp_path, clock)
    device.revoke(Purpose.PROFILING)
    assert device.profiler.counts.words == 0
    assert all("profile" not in sections for sections in _generations(tmp_path))
    with pytest.raises(ConsentError):
        device.observe(TEXT)


def test_data_sections_refuse_free_text_and_odd_values(tmp_path: Path) -> None:
    """Sentences, non-identifier keys, NaN, bytes and records without a time are refused."""
    device = _open(tmp_path, FakeClock())
    bad_caps: list[Any] = [
        {"note": "two words"},
        {"key with space": 1},
        {"x": float("nan")},
        {"x": b"raw"},
        {"x": ("tuple",)},
        "not a mapping",
    ]
    for caps in bad_caps:
        with pytest.raises(DeviceError):
            device.set_data(DataSection.CAPS, caps)
    with pytest.raises(DeviceError, match="'at'"):
        device.append_records(DataSection.FEEDBACK, [{"item": "a", "at": "yesterday"}])
    with pytest.raises(DeviceError, match="not a list of records"):
        device.append_records(DataSection.CAPS, [{"item": "a"}])
    with pytest.raises(DeviceError, match="nested deeper"):
        nested: list[Any] = []
        nested.append(nested)
        device.set_data(DataSection.CAPS, {"loop": nested})
    assert not tmp_path.joinpath("store.bin").exists()


def test_set_policy_applies_new_retention_and_is_audited(tmp_path: Path) -> None:
    """A new policy that keeps no engagement events drops them; the change is audited."""
    clock = FakeClock()
    device = _profiled(tmp_path, clock)
    device.append_records(DataSection.FEEDBACK, [{"item": "a"}])
    stricter = _policy(('"engagement_events", ', ""))
    device.set_policy(stricter)
    assert device.data(DataSection.FEEDBACK) == []
    reopened = _open(tmp_path, clock)
    assert policy_hash(reopened.policy) == policy_hash(stricter)
    actions = [entry["action"] for entry in reopened.export()["audit"]]
    assert actions == ["policy_installed", "granted_profiling", "policy_replaced"]
    assert all("feedback" not in sections for sections in _generations(tmp_path))


def test_audit_log_records_only_what_the_policy_enables(tmp_path: Path) -> None:
    """With an empty audit.device_log no entry is written, whatever happens."""
    policy = _policy(('device_log = ["policy_changes", "consent_changes", "blocked_inferences", '
                      '"selections", "training_rounds"]', "device_log = []"))
    clock = FakeClock()
    device = _profiled(tmp_path, clock, policy=policy)
    device.pause()
    assert not device.record_audit(DeviceAuditEvent.SELECTIONS, "selected", count=3)
    assert _open(tmp_path, clock).export()["audit"] == []


def test_bundle_is_kept_with_its_policy(tmp_path: Path) -> None:
    """A signed bundle given with its policy is restored on reopen; a mismatch is refused."""
    policy = _policy(("version = 1", "version = 7"))
    bundle = sign_policy(
        policy, Ed25519PrivateKey.generate(), issued_at=T0, expires_at=T0 + timedelta(days=30)
    )
    clock = FakeClock()
    _profiled(tmp_path, clock, policy=policy, bundle=bundle)
    reopened = _open(tmp_path, clock)
    assert reopened.bundle == bundle and policy_hash(reopened.policy) == policy_hash(policy)
    with pytest.raises(DeviceError, match="bundle"):
        _open(tmp_path, clock, bundle=bundle)


def test_a_naive_clock_is_refused(tmp_path: Path) -> None:
    """A clock returning naive datetimes is refused with a clear error."""
    with pytest.raises(DeviceError, match="timezone-aware"):
        Device(tmp_path, clock=lambda: datetime(2025, 1, 1))
