"""Key providers for the encrypted store: where the AES-256-GCM key comes from.

The store never persists a key itself; it asks a :class:`KeyProvider`. Two come with the
library: :class:`FileKeyProvider` (a 0600 key file created on first use, the default) and
:class:`StaticKeyProvider` (a key the app already holds, typically unwrapped from a platform
keystore such as the Android Keystore, the iOS/macOS Keychain or the Windows DPAPI).
"""

from __future__ import annotations

import errno
import hashlib
import os
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

from edge_client.store._fs import OPEN_NOFOLLOW, fsync_directory, temp_sibling, write_new_file
from edge_client.store.errors import StoreKeyError

__all__ = [
    "KEY_SIZE",
    "FileKeyProvider",
    "KeyProvider",
    "StaticKeyProvider",
    "key_fingerprint",
]

#: Length of a store key in bytes (AES-256).
KEY_SIZE = 32
#: Length of the key id written in store headers, in bytes.
KEY_ID_SIZE = 16
_KEY_ID_DOMAIN = b"edge-profiler/store/key-id/v1\x00"
_KEY_FILE_MAGIC = b"EPK1"
_MAX_KEY_FILE_BYTES = 4096
_OPEN_NONBLOCK: int = getattr(os, "O_NONBLOCK", 0)
_OPEN_BINARY: int = getattr(os, "O_BINARY", 0)


def key_fingerprint(key: bytes) -> str:
    """Return the public identifier of a store key (never the key itself).

    Parameters
    ----------
    key : bytes
        A :data:`KEY_SIZE`-byte key.

    Returns
    -------
    str
        32 lowercase hex digits: the first 16 bytes of a domain-separated SHA-256 of the
        key. This is what store file headers carry.

    Raises
    ------
    StoreKeyError
        When ``key`` is not :data:`KEY_SIZE` bytes.
    """
    _check_key(key, source="key")
    return hashlib.sha256(_KEY_ID_DOMAIN + key).digest()[:KEY_ID_SIZE].hex()


def _check_key(key: object, *, source: str) -> None:
    if not isinstance(key, bytes) or len(key) != KEY_SIZE:
        kind = f"{len(key)} bytes" if isinstance(key, bytes) else type(key).__name__
        raise StoreKeyError(f"{source}: expected a {KEY_SIZE}-byte key, got {kind}")


@runtime_checkable
class KeyProvider(Protocol):
    """Where the store's key comes from; apps may supply their own implementation.

    Implementations return the same key on every :meth:`load_key` call until
    :meth:`erase`, and raise :class:`~edge_client.store.StoreKeyError` when no usable key
    is available.
    """

    def key_id(self) -> str:
        """Return a stable, non-secret identifier of the key (see :func:`key_fingerprint`)."""
        ...

    def load_key(self) -> bytes:
        """Return the :data:`KEY_SIZE`-byte key, creating it first if the provider can."""
        ...

    def erase(self) -> None:
        """Destroy the key (or this provider's access to it) for good."""
        ...


@dataclass(frozen=True)
class FileKeyProvider:
    """A random key kept in a file readable by its owner only (the default provider).

    The file holds 4 magic bytes ``EPK1`` followed by the 32-byte key. It is created on the
    first :meth:`load_key` with mode 0600 (written under a temporary name, fsynced, then
    linked into place so that a crash never leaves a half-written key). An existing file is
    refused when it is a symbolic link, not a regular file, not owned by the current user,
    or accessible by group or others.

    Parameters
    ----------
    path : pathlib.Path
        The key file. Keep it outside backups that leave the device.
    create : bool
        Create the key when the file does not exist (default). With ``False`` a missing
        file raises :class:`~edge_client.store.StoreKeyError`.

    Notes
    -----
    On Windows the permission and ownership checks are skipped (POSIX mode bits do not
    describe NTFS ACLs); protect the directory with ACLs or use :class:`StaticKeyProvider`
    with DPAPI instead.
    """

    path: Path
    create: bool = True

    def __post_init__(self) -> None:
        """Normalise ``path`` to a :class:`~pathlib.Path`."""
        object.__setattr__(self, "path", Path(self.path))

    def key_id(self) -> str:
        """Return :func:`key_fingerprint` of the key (loading or creating it)."""
        return key_fingerprint(self.load_key())

    def load_key(self) -> bytes:
        """Read the key file, creating it first when it is missing and ``create`` is set.

        Returns
        -------
        bytes
            The :data:`KEY_SIZE`-byte key.

        Raises
        ------
        StoreKeyError
            When the file is missing (and ``create`` is off), unsafe or malformed.
        """
        try:
            return self._read()
        except FileNotFoundError:
            if not self.create:
                raise StoreKeyError(f"key file {self.path} does not exist") from None
        return self._create()

    def erase(self) -> None:
        """Unlink the key file (and any leftover temporary key file); absent files are fine.

        Overwriting before unlinking is not attempted: on SSDs and copy-on-write file
        systems it does not reach the old blocks, so it would only pretend to be safer.
        """
        directory = self.path.parent
        if not directory.is_dir():
            return
        prefix = f".{self.path.name}.tmp-"
        for leftover in directory.iterdir():
            if leftover.name.startswith(prefix):
                leftover.unlink(missing_ok=True)
        self.path.unlink(missing_ok=True)
        fsync_directory(directory)

    def _read(self) -> bytes:
        try:
            # Non-blocking: a FIFO in place of the key must be refused, not waited on.
            fd = os.open(self.path, os.O_RDONLY | OPEN_NOFOLLOW | _OPEN_NONBLOCK | _OPEN_BINARY)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise StoreKeyError(
                    f"key file {self.path} is a symbolic link; refusing to follow it"
                ) from None
            if isinstance(exc, FileNotFoundError):
                raise
            raise StoreKeyError(f"key file {self.path} cannot be opened: {exc.strerror}") from None
        try:
            info = os.fstat(fd)
            self._check_safe(info)
            if info.st_size > _MAX_KEY_FILE_BYTES:
                raise StoreKeyError(
                    f"key file {self.path} is {info.st_size:,} bytes; a key file holds "
                    f"{len(_KEY_FILE_MAGIC) + KEY_SIZE}"
                )
            data = b""
            while chunk := os.read(fd, _MAX_KEY_FILE_BYTES):
                data += chunk
                if len(data) > _MAX_KEY_FILE_BYTES:
                    break
        finally:
            os.close(fd)
        if len(data) != len(_KEY_FILE_MAGIC) + KEY_SIZE or not data.startswith(_KEY_FILE_MAGIC):
            raise StoreKeyError(
                f"key file {self.path} is malformed: expected {len(_KEY_FILE_MAGIC) + KEY_SIZE} "
                f"bytes starting with the store key magic, got {len(data)} bytes"
            )
        return data[len(_KEY_FILE_MAGIC) :]

    def _check_safe(self, info: os.stat_result) -> None:
        if not stat.S_ISREG(info.st_mode):
            raise StoreKeyError(f"key file {self.path} is not a regular file")
        if os.name == "nt":
            return
        loose = stat.S_IMODE(info.st_mode) & 0o077
        if loose:
            raise StoreKeyError(
                f"key file {self.path} has mode {stat.S_IMODE(info.st_mode):04o}: it is "
                f"accessible by group or others; refusing to use it "
                f"(run `chmod 600 {self.path}` if the key was not exposed, else forget the store)"
            )
        if info.st_uid != os.geteuid():
            raise StoreKeyError(
                f"key file {self.path} is owned by uid {info.st_uid}, not the current user "
                f"(uid {os.geteuid()}); refusing to use it"
            )

    def _create(self) -> bytes:
        directory = self.path.parent
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        key = secrets.token_bytes(KEY_SIZE)
        temp = temp_sibling(self.path, hidden=True)
        try:
            write_new_file(temp, _KEY_FILE_MAGIC + key)
            os.link(temp, self.path)  # atomic and never replaces an existing key
        except FileExistsError:
            return self._read()  # another process created it first: use theirs
        except OSError as exc:
            raise StoreKeyError(f"key file {self.path} cannot be created: {exc.strerror}") from None
        finally:
            temp.unlink(missing_ok=True)
        fsync_directory(directory)
        return key


class StaticKeyProvider:
    """A key the app already holds, e.g. unwrapped from a platform keystore.

    Use this when the key lives in the Android Keystore, the iOS/macOS Keychain, Windows
    DPAPI, a TPM or an HSM: the app fetches (or unwraps) the 32 random bytes there and hands
    them to the store through this provider, so no key file is ever written.

    Parameters
    ----------
    key : bytes
        Exactly :data:`KEY_SIZE` bytes from a cryptographically secure source.

    Raises
    ------
    StoreKeyError
        When ``key`` is not :data:`KEY_SIZE` bytes.

    Notes
    -----
    :meth:`erase` only drops this provider's reference to the key (Python cannot wipe an
    immutable ``bytes`` object); deleting the key from the keystore is the app's job.
    """

    __slots__ = ("_key",)

    def __init__(self, key: bytes) -> None:
        _check_key(key, source="StaticKeyProvider")
        self._key: bytes | None = key

    def __repr__(self) -> str:
        """Describe the provider without revealing the key."""
        state = "erased" if self._key is None else f"key_id={key_fingerprint(self._key)}"
        return f"StaticKeyProvider({state})"

    def key_id(self) -> str:
        """Return :func:`key_fingerprint` of the key."""
        return key_fingerprint(self.load_key())

    def load_key(self) -> bytes:
        """Return the key.

        Returns
        -------
        bytes
            The key given to the constructor.

        Raises
        ------
        StoreKeyError
            After :meth:`erase`.
        """
        if self._key is None:
            raise StoreKeyError("StaticKeyProvider: the key was erased")
        return self._key

    def erase(self) -> None:
        """Drop the reference to the key; later :meth:`load_key` calls raise."""
        self._key = None
