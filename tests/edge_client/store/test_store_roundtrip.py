"""Round trips, validation before writing, on-disk secrecy and forget() of the store."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import msgpack
import pytest

from edge_client.store import (
    EncryptedStore,
    FileKeyProvider,
    StaticKeyProvider,
    StoreValueError,
    validate_state,
)
from edge_client.store.format import HEADER_SIZE, MAGIC, unseal

CANARY = "CANARY-7f3e9b1c-never-on-disk"

RICH_STATE: dict[str, Any] = {
    "profile": {"style": {"cdi": 41.5, "words": 812}, "interests": {"iab-1": 0.8}},
    "feedback": [{"item": "a1", "clicked": True, "at": 1_700_000_000}, None],
    "examples": [b"\x00\x01\xff", "naïve — ünïcödé ✓", -(2**63), 2**64 - 1, 0.0, False],
    "caps": {},
    "policy": {"version": 3, "raw": b""},
}


def _store(tmp_path: Path) -> EncryptedStore:
    return EncryptedStore(tmp_path / "store.bin", key_provider=FileKeyProvider(tmp_path / "k"))


def test_roundtrip_preserves_every_supported_type(tmp_path: Path) -> None:
    """A state of every allowed type loads back equal, with the same types."""
    store = _store(tmp_path)
    store.save(RICH_STATE)
    loaded = EncryptedStore(store.path, key_provider=FileKeyProvider(tmp_path / "k")).load()
    assert loaded == RICH_STATE
    assert type(loaded["examples"][0]) is bytes
    assert type(loaded["examples"][4]) is float


def test_empty_store_loads_empty_without_creating_anything(tmp_path: Path) -> None:
    """Loading or recovering a store that was never saved returns {} and writes no file."""
    store = _store(tmp_path)
    assert store.load() == {}
    result = store.open_or_recover()
    assert (result.state, result.generation, result.source) == ({}, 0, None)
    assert list(tmp_path.iterdir()) == []


def test_saves_rotate_generations_and_leave_no_temp_files(tmp_path: Path) -> None:
    """Each save bumps the generation, keeps the previous one as .prev, leaves no temp file."""
    store = _store(tmp_path)
    key = FileKeyProvider(tmp_path / "k")
    for n in range(1, 4):
        store.save({"n": {"value": n}})
        assert store.generation == n
    current = unseal(store.path.read_bytes(), key=key.load_key(), path=store.path)
    previous = unseal(
        store.previous_path.read_bytes(), key=key.load_key(), path=store.previous_path
    )
    assert (current.generation, current.sections) == (3, {"n": {"value": 3}})
    assert (previous.generation, previous.sections) == (2, {"n": {"value": 2}})
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "k",
        "store.bin",
        "store.bin.lock",
        "store.bin.prev",
    ]
    assert store.path.read_bytes().startswith(MAGIC)


def test_generation_continues_across_instances(tmp_path: Path) -> None:
    """A new store object continues the generation counter found on disk."""
    _store(tmp_path).save({"a": 1})
    _store(tmp_path).save({"a": 2})
    again = _store(tmp_path)
    assert again.open_or_recover().generation == 2
    again.save({"a": 3})
    assert again.generation == 3


def test_store_and_key_files_are_owner_only(tmp_path: Path) -> None:
    """Store generations and the key file are created with mode 0600."""
    store = _store(tmp_path)
    store.save({"a": 1})
    store.save({"a": 2})
    for path in (store.path, store.previous_path, tmp_path / "k"):
        assert path.stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize(
    ("state", "fragment"),
    [
        ({"s": {1, 2}}, "type set"),
        ({"s": (1, 2)}, "tuple"),
        ({"s": {"nested": [object()]}}, "type object"),
        ({"s": {3: "x"}}, "keys must be str"),
        ({"s": 2**64}, "64-bit"),
        ({"s": -(2**63) - 1}, "64-bit"),
        ({"s": bytearray(b"x")}, "bytearray"),
        ({"s": "\ud800"}, "surrogate"),
        ({"": 1}, "non-empty str"),
        ({7: 1}, "non-empty str"),
        (["not", "a", "mapping"], "mapping"),
    ],
)
def test_unserializable_state_is_rejected_before_anything_is_written(
    tmp_path: Path, state: Any, fragment: str
) -> None:
    """A state msgpack cannot round-trip raises StoreValueError and creates no file."""
    store = _store(tmp_path)
    with pytest.raises(StoreValueError, match=fragment):
        store.save(state)
    assert list(tmp_path.iterdir()) == []


def test_rejected_state_leaves_existing_generations_untouched(tmp_path: Path) -> None:
    """A rejected save leaves both stored generations byte-for-byte unchanged."""
    store = _store(tmp_path)
    store.save({"a": 1})
    store.save({"a": 2})
    before = (store.path.read_bytes(), store.previous_path.read_bytes())
    with pytest.raises(StoreValueError):
        store.save({"a": {"deep": [1, {2.0, 3.0}]}})
    assert (store.path.read_bytes(), store.previous_path.read_bytes()) == before
    assert store.load() == {"a": 2}


def test_cycles_and_depth_are_rejected() -> None:
    """Reference cycles and absurd nesting are refused with a clear error, not a crash."""
    loop: list[Any] = []
    loop.append(loop)
    with pytest.raises(StoreValueError, match="cycle"):
        validate_state({"s": loop})
    deep: list[Any] = []
    cursor = deep
    for _ in range(100):
        cursor.append([])
        cursor = cursor[0]
    with pytest.raises(StoreValueError, match="deeper"):
        validate_state({"s": deep})
    shared = [1, 2]
    validate_state({"s": [shared, shared]})  # the same list twice is not a cycle


def test_error_path_hides_keys_that_may_be_user_text() -> None:
    """Error messages show identifier keys but never free-text keys or values."""
    secret_key = "my diary entry about my health"
    with pytest.raises(StoreValueError) as caught:
        validate_state({"profile": {"interests": {secret_key: {1}}}})
    message = str(caught.value)
    assert "'profile'" in message
    assert "'interests'" in message
    assert secret_key not in message


def test_canary_never_appears_in_plaintext_on_disk(tmp_path: Path) -> None:
    """A canary saved as str and bytes is absent from every file on disk, key included."""
    state = {"notes": {"text": CANARY, "raw": CANARY.encode()}, CANARY[:20]: [CANARY]}
    assert CANARY.encode() in msgpack.packb(state, use_bin_type=True)  # the test can fail
    store = _store(tmp_path)
    store.save(state)
    store.save(state)
    assert store.load() == state
    files = [p for p in tmp_path.iterdir() if p.is_file()]
    assert len(files) == 4  # both generations, the key and the (empty) lock file
    for path in files:
        data = path.read_bytes()
        assert CANARY.encode() not in data
        assert CANARY[:20].encode() not in data
        assert CANARY.encode("utf-16-le") not in data


def test_key_never_appears_in_store_files(tmp_path: Path) -> None:
    """The header carries a key id, and neither the key nor any 8-byte slice of it."""
    key = os.urandom(32)
    store = EncryptedStore(tmp_path / "store.bin", key_provider=StaticKeyProvider(key))
    store.save({"a": 1})
    data = store.path.read_bytes()
    assert all(key[i : i + 8] not in data for i in range(len(key) - 7))
    assert bytes.fromhex(StaticKeyProvider(key).key_id()) == data[6:22]
    assert len(data) > HEADER_SIZE


def test_forget_leaves_no_file_behind(tmp_path: Path) -> None:
    """forget() removes both generations, moved-aside files, temp leftovers and the key."""
    store = _store(tmp_path)
    store.save({"a": 1})
    store.save({"a": 2})
    store.save({"a": 3})
    store.path.write_bytes(b"garbage")  # becomes a moved-aside corrupt file
    assert store.open_or_recover().discarded
    (tmp_path / "store.bin.tmp-deadbeef").write_bytes(b"half a write")
    (tmp_path / "unrelated.txt").write_text("not the store's")
    store.forget()
    assert [p.name for p in tmp_path.iterdir()] == ["unrelated.txt"]
    assert store.load() == {}


def test_forget_then_save_starts_a_fresh_store_with_a_new_key(tmp_path: Path) -> None:
    """After forget() the next save creates a new key and starts at generation 1."""
    store = _store(tmp_path)
    store.save({"a": 1})
    old_key = (tmp_path / "k").read_bytes()
    store.forget()
    store.save({"b": 2})
    assert (tmp_path / "k").read_bytes() != old_key
    assert store.generation == 1
    assert store.load() == {"b": 2}
