"""Key providers: key file creation and safety checks, wrong keys, static keys."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from edge_client.store import (
    EncryptedStore,
    FileKeyProvider,
    KeyProvider,
    StaticKeyProvider,
    StoreKeyError,
    key_fingerprint,
)

posix_only = pytest.mark.skipif(os.name == "nt", reason="POSIX permission bits")


@posix_only
def test_key_file_is_created_0600_on_first_use_and_reused(tmp_path: Path) -> None:
    """The first load creates a 0600 key file in a 0700 directory; later loads reuse it."""
    provider = FileKeyProvider(tmp_path / "keys" / "store.key")
    old_umask = os.umask(0)  # a permissive umask must not loosen the key file
    try:
        key = provider.load_key()
    finally:
        os.umask(old_umask)
    assert len(key) == 32
    assert provider.path.stat().st_mode & 0o777 == 0o600
    assert provider.path.parent.stat().st_mode & 0o777 == 0o700
    assert FileKeyProvider(provider.path).load_key() == key
    assert provider.key_id() == key_fingerprint(key)
    assert [p.name for p in provider.path.parent.iterdir()] == ["store.key"]


@posix_only
@pytest.mark.parametrize("mode", [0o640, 0o604, 0o660, 0o644, 0o601, 0o620, 0o610])
def test_key_file_accessible_by_others_is_refused(tmp_path: Path, mode: int) -> None:
    """A key file with any group/other permission bit is refused with a clear error."""
    provider = FileKeyProvider(tmp_path / "store.key")
    provider.load_key()
    provider.path.chmod(mode)
    with pytest.raises(StoreKeyError, match="accessible by group or others") as caught:
        provider.load_key()
    assert str(provider.path) in str(caught.value)
    assert f"{mode:04o}" in str(caught.value)
    store = EncryptedStore(tmp_path / "store.bin", key_provider=provider)
    with pytest.raises(StoreKeyError):
        store.save({"a": 1})
    assert not store.path.exists()


@posix_only
def test_owner_only_modes_are_accepted(tmp_path: Path) -> None:
    """Owner-only modes (0400, 0600, 0700) are accepted."""
    provider = FileKeyProvider(tmp_path / "store.key")
    key = provider.load_key()
    for mode in (0o400, 0o600, 0o700):
        provider.path.chmod(mode)
        assert provider.load_key() == key


@posix_only
def test_symlinked_key_file_is_refused(tmp_path: Path) -> None:
    """A key path that is a symbolic link is refused rather than followed."""
    real = FileKeyProvider(tmp_path / "real.key")
    real.load_key()
    link = tmp_path / "link.key"
    link.symlink_to(real.path)
    with pytest.raises(StoreKeyError, match="symbolic link"):
        FileKeyProvider(link).load_key()


def test_malformed_key_file_is_refused(tmp_path: Path) -> None:
    """A key file of the wrong length or without the magic is refused, not used."""
    path = tmp_path / "store.key"
    provider = FileKeyProvider(path)
    good = provider.load_key()
    for content in (b"", b"EPK1" + good[:31], b"EPK1" + good + b"x", b"XXXX" + good):
        path.write_bytes(content)
        path.chmod(0o600)
        with pytest.raises(StoreKeyError, match="malformed"):
            provider.load_key()


def test_missing_key_file_without_create_is_an_error(tmp_path: Path) -> None:
    """With create=False a missing key file raises instead of creating a new key."""
    provider = FileKeyProvider(tmp_path / "absent.key", create=False)
    with pytest.raises(StoreKeyError, match="does not exist"):
        provider.load_key()
    assert not provider.path.exists()


def test_wrong_key_is_a_clear_key_error_and_touches_nothing(tmp_path: Path) -> None:
    """Opening with another key raises StoreKeyError on load, recover and save; files stay."""
    path = tmp_path / "store.bin"
    writer = EncryptedStore(path, key_provider=StaticKeyProvider(os.urandom(32)))
    writer.save({"a": 1})
    writer.save({"a": 2})
    before = sorted((p.name, p.read_bytes()) for p in tmp_path.iterdir())
    intruder = EncryptedStore(path, key_provider=StaticKeyProvider(os.urandom(32)))
    for action in (intruder.load, intruder.open_or_recover, lambda: intruder.save({"b": 1})):
        with pytest.raises(StoreKeyError, match="wrong key") as caught:
            action()
        assert str(path) in str(caught.value)
    assert sorted((p.name, p.read_bytes()) for p in tmp_path.iterdir()) == before
    assert writer.load() == {"a": 2}


def test_lost_key_file_gives_key_error_not_data_loss(tmp_path: Path) -> None:
    """If the key file vanishes, a new key is made but the old store is reported, not wiped."""
    store = EncryptedStore(tmp_path / "store.bin", key_provider=FileKeyProvider(tmp_path / "k"))
    store.save({"a": 1})
    (tmp_path / "k").unlink()
    with pytest.raises(StoreKeyError, match="wrong key"):
        store.open_or_recover()
    assert store.path.exists()


def test_static_key_provider_validates_and_erases() -> None:
    """StaticKeyProvider takes exactly 32 bytes, hides them in repr, and erase() drops them."""
    with pytest.raises(StoreKeyError, match="32-byte"):
        StaticKeyProvider(b"short")
    with pytest.raises(StoreKeyError, match="32-byte"):
        StaticKeyProvider("x" * 32)  # type: ignore[arg-type]  # a str must be refused at run time
    key = os.urandom(32)
    provider = StaticKeyProvider(key)
    assert provider.load_key() == key
    assert key.hex() not in repr(provider)
    assert provider.key_id() in repr(provider)
    provider.erase()
    with pytest.raises(StoreKeyError, match="erased"):
        provider.load_key()


def test_key_fingerprint_is_stable_and_not_the_key() -> None:
    """The key id is deterministic, 32 hex digits, differs per key and reveals no key bytes."""
    key = os.urandom(32)
    fingerprint = key_fingerprint(key)
    assert fingerprint == key_fingerprint(key)
    assert len(fingerprint) == 32
    assert fingerprint != key_fingerprint(os.urandom(32))
    assert key.hex()[:16] not in fingerprint


def test_providers_satisfy_the_protocol(tmp_path: Path) -> None:
    """Both bundled providers implement the KeyProvider protocol."""
    assert isinstance(FileKeyProvider(tmp_path / "k"), KeyProvider)
    assert isinstance(StaticKeyProvider(os.urandom(32)), KeyProvider)


def test_file_key_provider_erase_removes_the_file(tmp_path: Path) -> None:
    """erase() unlinks the key file and is harmless when it is already gone."""
    provider = FileKeyProvider(tmp_path / "k")
    provider.load_key()
    provider.erase()
    provider.erase()
    assert list(tmp_path.iterdir()) == []
