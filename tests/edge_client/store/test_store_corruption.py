"""Integrity: every flipped bit and every truncation is detected and recovered from."""

from __future__ import annotations

import struct
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from edge_client.store import (
    EncryptedStore,
    StaticKeyProvider,
    StoreError,
    StoreIntegrityError,
)
from edge_client.store.format import HEADER_SIZE, MIN_FILE_SIZE

KEY = bytes(range(32))
OLD: dict[str, Any] = {"profile": {"n": 1, "secret": "CANARY-old-generation"}}
NEW: dict[str, Any] = {"profile": {"n": 2, "secret": "CANARY-new-generation"}, "caps": {"hour": 3}}


def _store(directory: Path) -> EncryptedStore:
    return EncryptedStore(directory / "store.bin", key_provider=StaticKeyProvider(KEY))


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, bytes]:
    """Return the bytes of the current (NEW, generation 2) and previous (OLD, 1) store files."""
    store = _store(tmp_path_factory.mktemp("pristine"))
    store.save(OLD)
    store.save(NEW)
    return store.path.read_bytes(), store.previous_path.read_bytes()


def _reset(directory: Path, current: bytes | None, previous: bytes | None) -> EncryptedStore:
    for leftover in directory.iterdir():
        leftover.unlink()
    store = _store(directory)
    if current is not None:
        store.path.write_bytes(current)
    if previous is not None:
        store.previous_path.write_bytes(previous)
    return store


def _flip(data: bytes, bit: int) -> bytes:
    damaged = bytearray(data)
    damaged[bit // 8] ^= 1 << (bit % 8)
    return bytes(damaged)


def _assert_detected_and_recovered(
    directory: Path,
    damaged: bytes,
    previous: bytes | None,
    expected: dict[str, Any],
    *,
    then_save: bool = True,
) -> None:
    store = _reset(directory, damaged, previous)
    with pytest.raises(StoreIntegrityError) as caught:
        store.load()
    message = str(caught.value)
    assert str(store.path) in message
    assert "CANARY" not in message
    result = store.open_or_recover()
    assert result.state == expected
    assert result.generation == (1 if expected else 0)
    assert len(result.discarded) == 1
    discarded = result.discarded[0]
    assert discarded.path == store.path
    assert discarded.moved_to is not None  # a writable store moves damaged files aside
    assert discarded.moved_to.read_bytes() == damaged  # moved aside, never deleted
    assert not store.path.exists()
    if previous is not None:
        assert store.previous_path.read_bytes() == previous  # never overwritten
    if then_save:  # the app keeps working (fsyncs are slow: not after every single flip)
        store.save({"after": True})
        assert store.load() == {"after": True}


def test_single_bit_flips_everywhere_are_detected(
    tmp_path: Path, pristine: tuple[bytes, bytes]
) -> None:
    """Flipping any header bit, or one bit of every later byte (nonce, ciphertext, tag), fails."""
    current, previous = pristine
    header_bits = range(HEADER_SIZE * 8)
    body_bits = (byte * 8 + byte % 8 for byte in range(HEADER_SIZE, len(current)))
    for bit in (*header_bits, *body_bits):
        damaged = _flip(current, bit)
        _assert_detected_and_recovered(tmp_path, damaged, previous, OLD, then_save=bit % 97 == 0)


def test_bit_flips_without_a_previous_generation_recover_to_empty(
    tmp_path: Path, pristine: tuple[bytes, bytes]
) -> None:
    """With only one damaged generation, recovery yields an empty state, never garbage."""
    current, _ = pristine
    size = len(current)
    positions = [0, 4, 5, 6, 21, 22, 33, HEADER_SIZE, size // 2, size - 17, size - 16, size - 1]
    for byte in positions:
        for bit in (byte * 8, byte * 8 + 7):
            _assert_detected_and_recovered(tmp_path, _flip(current, bit), None, {})


def test_every_truncation_is_detected(tmp_path: Path, pristine: tuple[bytes, bytes]) -> None:
    """A file cut at any length, or with bytes appended, fails verification."""
    current, previous = pristine
    for length in range(len(current)):
        damaged = current[:length]
        _assert_detected_and_recovered(tmp_path, damaged, previous, OLD, then_save=length % 17 == 0)
    for tail in (b"\x00", b"extra bytes"):
        _assert_detected_and_recovered(tmp_path, current + tail, previous, OLD)


@pytest.mark.parametrize(
    ("mutate", "fragment"),
    [
        (lambda data: b"", "empty"),
        (lambda data: data[: MIN_FILE_SIZE - 1], "truncated"),
        (lambda data: b"PK\x03\x04" + data[4:], "bad magic"),
        (lambda data: data[:4] + struct.pack(">H", 2) + data[6:], "unknown format version 2"),
        (lambda data: data[:10] + bytes([data[10] ^ 1]) + data[11:], "key id field"),
        (lambda data: data[:-1] + bytes([data[-1] ^ 0x80]), "authentication failed"),
    ],
)
def test_integrity_errors_say_what_failed(
    tmp_path: Path,
    pristine: tuple[bytes, bytes],
    mutate: Callable[[bytes], bytes],
    fragment: str,
) -> None:
    """Each kind of damage is reported with its own plain-words reason."""
    store = _reset(tmp_path, mutate(pristine[0]), pristine[1])
    with pytest.raises(StoreIntegrityError, match=fragment) as caught:
        store.load()
    assert caught.value.path == store.path
    result = store.open_or_recover()
    assert fragment in result.discarded[0].reason


def test_damaged_previous_generation_is_set_aside_and_current_kept(
    tmp_path: Path, pristine: tuple[bytes, bytes]
) -> None:
    """A damaged .prev is reported and moved aside while the intact current state is used."""
    current, previous = pristine
    for bit in range(0, len(previous) * 8, 13):
        store = _reset(tmp_path, current, _flip(previous, bit))
        assert store.load() == NEW
        result = store.open_or_recover()
        assert (result.state, result.generation, result.source) == (NEW, 2, store.path)
        assert [d.path for d in result.discarded] == [store.previous_path]
        assert not store.previous_path.exists()


def test_both_generations_damaged_recover_to_empty(
    tmp_path: Path, pristine: tuple[bytes, bytes]
) -> None:
    """When nothing verifies, recovery returns an empty state and keeps both files aside."""
    current, previous = pristine
    store = _reset(tmp_path, _flip(current, 300), previous[: len(previous) // 2])
    result = store.open_or_recover()
    assert (result.state, result.generation, result.source) == ({}, 0, None)
    assert {d.path for d in result.discarded} == {store.path, store.previous_path}
    assert all(d.moved_to is not None and d.moved_to.exists() for d in result.discarded)


def test_save_sets_damaged_current_aside_instead_of_rotating_it(
    tmp_path: Path, pristine: tuple[bytes, bytes]
) -> None:
    """Saving over a damaged current keeps the good .prev and moves the damage aside."""
    current, previous = pristine
    store = _reset(tmp_path, _flip(current, 500), previous)
    store.save({"fresh": 1})
    assert store.load() == {"fresh": 1}
    assert store.previous_path.read_bytes() == previous
    assert len([p for p in tmp_path.iterdir() if ".corrupt-" in p.name]) == 1


def test_missing_current_falls_back_to_previous(
    tmp_path: Path, pristine: tuple[bytes, bytes]
) -> None:
    """A crash between the two renames of a save (no current file) loads the previous one."""
    _, previous = pristine
    store = _reset(tmp_path, None, previous)
    assert store.load() == OLD
    result = store.open_or_recover()
    assert (result.state, result.discarded) == (OLD, ())


def test_unreadable_store_path_is_a_store_error(tmp_path: Path) -> None:
    """A store path that is a directory raises StoreError naming it, not a raw OSError."""
    store = _store(tmp_path)
    store.path.mkdir()
    with pytest.raises(StoreError, match="is a directory, not a regular file"):
        store.load()
    with pytest.raises(StoreError):
        store.open_or_recover()
    assert store.path.is_dir()
