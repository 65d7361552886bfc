"""Device: damaged stores and wrong keys never crash it; forget, export, and the canary."""

from __future__ import annotations

import json
import logging
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from edge_client.device import DataSection, Device, DeviceError
from edge_client.policy import Purpose
from edge_client.store import EncryptedStore, FileKeyProvider
from edge_client.store.format import HEADER_SIZE, NONCE_SIZE

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=timezone.utc)
CANARY = "zqxcanary7f3e9b1cwpl"
TEXT = (
    "We compared the warranty terms and the measured battery life of both laptops. "
    "The cheaper one lasted two hours longer in the benchmark, so the numbers decided it."
)


def _clock() -> datetime:
    return NOW


def _profiled(data: Path, **kwargs: Any) -> Device:
    device = Device(data, clock=_clock, **kwargs)
    device.grant(Purpose.PROFILING)
    device.observe(TEXT)
    return device


def _files(data: Path) -> list[Path]:
    return sorted(p for p in data.rglob("*") if p.is_file())


def _plaintexts(data: Path) -> list[bytes]:
    """Decrypt every store generation with the key file: the raw msgpack payloads."""
    key = FileKeyProvider(data / "store.bin.key", create=False).load_key()
    payloads = []
    for path in (data / "store.bin", data / "store.bin.prev"):
        blob = path.read_bytes()
        nonce = blob[HEADER_SIZE - NONCE_SIZE : HEADER_SIZE]
        payloads.append(AESGCM(key).decrypt(nonce, blob[HEADER_SIZE:], blob[:HEADER_SIZE]))
    return payloads


def test_flipped_bit_recovers_the_last_good_state(tmp_path: Path) -> None:
    """A damaged current file is set aside, reported, and the previous generation is used."""
    device = _profiled(tmp_path)
    words = device.profiler.counts.words
    device.pause()  # newest generation: paused; previous: profiled, not paused
    blob = bytearray((tmp_path / "store.bin").read_bytes())
    blob[len(blob) // 2] ^= 0x10
    (tmp_path / "store.bin").write_bytes(bytes(blob))
    reopened = Device(tmp_path, clock=_clock)
    report = reopened.report
    assert not report.ok and len(report.discarded) == 1 and report.persistent
    assert "authentication failed" in report.describe()
    assert "last good state was recovered" in report.describe()
    assert not reopened.paused and reopened.profiler.counts.words == words
    assert reopened.observe(TEXT)  # the app carries on and saves
    assert Device(tmp_path, clock=_clock).report.ok


def test_both_generations_damaged_starts_empty_and_keeps_working(tmp_path: Path) -> None:
    """With no verifiable file the device starts empty, says so, and saves anew."""
    _profiled(tmp_path).pause()
    for name in ("store.bin", "store.bin.prev"):
        path = tmp_path / name
        path.write_bytes(path.read_bytes()[:40])
    device = Device(tmp_path, clock=_clock)
    assert len(device.report.discarded) == 2 and device.report.generation == 0
    assert "starting empty" in device.report.describe()
    assert device.profile().words == 0 and not device.paused
    device.grant(Purpose.PROFILING)
    assert device.observe(TEXT)
    assert Device(tmp_path, clock=_clock).profile().words > 0


def test_wrong_key_reports_and_never_overwrites(tmp_path: Path) -> None:
    """Another key: clear report, works in memory, leaves the files alone until forget."""
    data, keys = tmp_path / "data", tmp_path / "keys"
    _profiled(data, key_provider=FileKeyProvider(keys / "first.key"))
    before = {p.name: p.read_bytes() for p in _files(data)}
    second = FileKeyProvider(keys / "second.key")
    device = Device(data, clock=_clock, key_provider=second)
    assert not device.report.persistent and not device.persistent
    assert "wrong key" in device.report.describe() and "NOT being saved" in device.report.describe()
    device.grant(Purpose.PROFILING)
    assert device.observe(TEXT) and device.profile().words > 0
    assert not device.save()
    assert {p.name: p.read_bytes() for p in _files(data)} == before
    device.forget()
    assert _files(data) == [] and not second.path.exists()
    device.grant(Purpose.PROFILING)
    assert device.save() and (data / "store.bin").exists()
    assert Device(data, clock=_clock, key_provider=second).report.ok


def test_store_from_a_newer_version_is_left_untouched(tmp_path: Path) -> None:
    """A layout version above ours is reported and never overwritten."""
    store = EncryptedStore(tmp_path / "store.bin")
    store.save({"meta": {"format": 99}, "future": {"x": 1}})
    before = (tmp_path / "store.bin").read_bytes()
    device = Device(tmp_path, clock=_clock)
    assert not device.persistent and "newer version" in device.report.describe()
    device.pause()
    assert (tmp_path / "store.bin").read_bytes() == before


def test_an_unreadable_section_is_dropped_alone(tmp_path: Path) -> None:
    """A malformed policy or consent section is reported; the rest of the state is kept."""
    _profiled(tmp_path).append_records(DataSection.FEEDBACK, [{"item": "a1"}])
    store = EncryptedStore(tmp_path / "store.bin")
    state = store.load()
    state["policy"] = {"document": {"policy": {"name": 3}}, "hash": "x"}
    state["consent"] = {"granted": ["mind_reading"]}
    store.save(state)
    device = Device(tmp_path, clock=_clock)
    text = device.report.describe()
    assert "section 'policy'" in text and "section 'consent'" in text
    assert device.policy.policy.name == "default" and device.consent == frozenset()
    assert device.data(DataSection.FEEDBACK)[0]["item"] == "a1"
    assert device.profile().words == 0  # no consent any more: the profile was dropped
    assert "Profiling consent is not given" in text


def test_forget_leaves_no_file(tmp_path: Path) -> None:
    """Forget erases both generations, files set aside and the key: nothing is left."""
    device = _profiled(tmp_path)
    device.pause()
    (tmp_path / "store.bin").write_bytes(b"EPST garbage")
    device = Device(tmp_path, clock=_clock)
    assert device.report.discarded
    device.forget()
    assert _files(tmp_path) == []
    assert device.profile().words == 0 and device.consent == frozenset() and not device.paused
    assert Device(tmp_path, clock=_clock).report.generation == 0


def test_export_is_json_with_counts_as_numbers_and_no_text(tmp_path: Path) -> None:
    """Export round-trips through JSON, holds the hashed counts as numbers, and no words."""
    device = _profiled(tmp_path)
    document = json.loads(json.dumps(device.export(), allow_nan=False))
    counts = document["profile"]["counts"]
    assert counts["words"] == device.profiler.counts.words
    assert len(counts["unigram_keys"]) == len(counts["unigram_counts"]) > 10
    assert all(isinstance(k, int) for k in counts["unigram_keys"])
    assert document["consent"] == {"granted": ["profiling"]}
    assert document["profile_view"]["words"] == device.profile().words
    dumped = json.dumps(document).lower()
    for word in ("warranty", "battery", "laptops", "benchmark"):
        assert word not in dumped


def test_canary_text_never_reaches_a_file_or_a_log(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A unique canary observed as user text is in no file, no decrypted payload, no log."""
    caplog.set_level(logging.DEBUG)
    device = Device(tmp_path, clock=_clock)
    device.grant(Purpose.PROFILING)
    secret = f"My neighbour {CANARY} told me {CANARY.upper()} twice. {CANARY}!"
    assert device.observe(secret)
    device.observe_many([TEXT, f"{CANARY} {CANARY}"])
    with pytest.raises(DeviceError) as refused:
        device.append_records(DataSection.FEEDBACK, [{"item": "a1", "note": secret}])
    device.append_records(DataSection.FEEDBACK, [{"item": "a1", "engaged": True}])
    device.pause()
    device.resume()
    reopened = Device(tmp_path, clock=_clock)
    reopened.profile()
    exported = json.dumps(reopened.export())
    needles = (CANARY.encode(), CANARY.upper().encode(), b"neighbour")
    files = _files(tmp_path)
    names = {p.name for p in files}
    assert names == {"store.bin", "store.bin.prev", "store.bin.key", "store.bin.lock"}
    for blob in [p.read_bytes() for p in files] + _plaintexts(tmp_path) + [exported.encode()]:
        assert not any(needle in blob.lower() for needle in needles)
    assert CANARY not in str(refused.value)
    assert caplog.records, "logging at DEBUG must have been captured"
    logged = "\n".join(record.getMessage() for record in caplog.records).lower()
    assert CANARY not in logged and "neighbour" not in logged
