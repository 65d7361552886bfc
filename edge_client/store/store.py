"""The device's encrypted local store: one file, two generations, atomic saves.

Everything the device keeps (profile aggregates, feedback events, training examples, cap
counters, the policy in force) is one msgpack mapping of named sections, sealed with
AES-256-GCM (see :mod:`edge_client.store.format`) under a key from a
:class:`~edge_client.store.keys.KeyProvider`.

Files, all in the store's directory::

    <name>                    newest generation
    <name>.prev               the generation before it
    <name>.tmp-<hex>          a save in progress (left behind only by a crash)
    <name>[.prev].corrupt-*   files that failed verification, moved aside
    <name>.key                the key, with the default FileKeyProvider
    <name>.lock               the operating-system lock (never removed)

A save writes ``<name>.tmp-<hex>``, fsyncs it, renames ``<name>`` over ``<name>.prev``,
renames the new file over ``<name>`` and fsyncs the directory after each rename. A crash at
any point leaves either the new generation, or the last one as ``<name>`` or ``<name>.prev``.

One writer at a time, enforced: every save, recovery and erase holds the exclusive lock
(:mod:`edge_client.store.lock`), and :meth:`EncryptedStore.transaction` lets a caller
read-modify-write under one hold, so no acknowledged save is ever lost to another process.
Reads take the shared lock. A store opened ``read_only`` never writes anything (no key is
created, nothing is moved aside or cleaned up), so it works in a read-only directory.
Store files are read only when they are regular files (a FIFO, a device or a symbolic link
in place of one is refused without blocking) no larger than ``max_bytes``.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edge_client.decoding import DecodeError, read_bounded
from edge_client.store._fs import fsync_directory, temp_sibling, write_new_file
from edge_client.store.errors import StoreError, StoreIntegrityError, StoreKeyError
from edge_client.store.format import Sealed, seal, unseal
from edge_client.store.keys import FileKeyProvider, KeyProvider
from edge_client.store.lock import DEFAULT_LOCK_TIMEOUT, StoreLock
from edge_client.store.recovery import DiscardedFile, RecoveryResult
from edge_client.store.state import State, validate_state

__all__ = ["DEFAULT_MAX_STORE_BYTES", "EncryptedStore"]

DEFAULT_MAX_STORE_BYTES = 256 * 1024 * 1024
"""Largest store file read; a larger one is refused without being read."""

_log = logging.getLogger(__name__)


@dataclass
class _Survey:
    """The verified and failed files among ``<name>`` and ``<name>.prev``."""

    good: dict[Path, Sealed] = field(default_factory=dict)
    bad: dict[Path, str] = field(default_factory=dict)


class EncryptedStore:
    """An encrypted, crash-safe store of named sections on the device.

    Parameters
    ----------
    path : pathlib.Path
        The store file; its directory is created (mode 0700) on the first save.
    key_provider : KeyProvider or None
        Where the key comes from. ``None`` (the default) uses
        ``FileKeyProvider(<path>.key)``: a 0600 key file created on first use (never
        created when ``read_only``).
    read_only : bool
        Never write: saving and erasing raise, recovery only reads.
    max_bytes : int
        Largest store file read (default :data:`DEFAULT_MAX_STORE_BYTES`).
    lock_timeout : float
        Seconds to wait for another holder of the lock before
        :class:`~edge_client.store.lock.StoreLockedError`.
    """

    def __init__(
        self,
        path: Path,
        *,
        key_provider: KeyProvider | None = None,
        read_only: bool = False,
        max_bytes: int = DEFAULT_MAX_STORE_BYTES,
        lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
    ) -> None:
        self.path = Path(path)
        self.previous_path = self.path.with_name(f"{self.path.name}.prev")
        self.read_only = read_only
        self.max_bytes = max_bytes
        self.key_provider: KeyProvider = (
            key_provider
            if key_provider is not None
            else FileKeyProvider(self.path.with_name(f"{self.path.name}.key"), create=not read_only)
        )
        self._generation = 0
        self.lock = StoreLock(self.path.with_name(f"{self.path.name}.lock"), timeout=lock_timeout)

    def __repr__(self) -> str:
        """Name the store file (never its contents or key)."""
        return f"EncryptedStore({str(self.path)!r})"

    @property
    def generation(self) -> int:
        """The newest generation this object loaded or saved (0 before any)."""
        return self._generation

    def load(self) -> State:
        """Return the saved state, strictly: any integrity failure is raised, not repaired.

        Reads ``<name>``, or ``<name>.prev`` when ``<name>`` is absent (a crash between the
        two renames of a save). No file at all is an empty store and returns ``{}``
        without touching the key.

        Returns
        -------
        dict[str, Any]
            The sections as last saved.

        Raises
        ------
        StoreIntegrityError
            When the file read does not verify (use :meth:`open_or_recover` to fall back).
        StoreKeyError
            When the key cannot be loaded or is not the one the file was written with.
        """
        with self.lock.hold(exclusive=False):
            for candidate in (self.path, self.previous_path):
                data = self._read(candidate)
                if data is not None:
                    sealed = unseal(data, key=self.key_provider.load_key(), path=candidate)
                    self._generation = max(self._generation, sealed.generation)
                    return sealed.sections
            return {}

    def save(self, state: Mapping[str, Any]) -> None:
        """Atomically replace the stored state with ``state``; the old one becomes ``.prev``.

        Parameters
        ----------
        state : Mapping[str, Any]
            Section name -> msgpack-able value (see
            :func:`~edge_client.store.state.validate_state`).

        Raises
        ------
        StoreValueError
            When ``state`` cannot be stored faithfully; nothing is written, not even a key.
        StoreKeyError
            When the key cannot be loaded or the existing files were written under another
            key; nothing is written.
        StoreError
            When the file system refuses the write; the last good state is untouched.

        Notes
        -----
        A file among ``<name>``/``<name>.prev`` that fails verification is moved aside
        (logged as a warning) rather than rotated or overwritten.
        """
        self._writable("save")
        validate_state(state)
        with self.lock.hold(exclusive=True):
            key = self.key_provider.load_key()
            survey = self._survey(key)
            for path, reason in survey.bad.items():
                self._move_aside(path, reason)
            newest = max((s.generation for s in survey.good.values()), default=0)
            generation = max(newest, self._generation) + 1
            blob = seal(state, key=key, generation=generation)
            directory = self.path.parent
            temp = temp_sibling(self.path)
            try:
                directory.mkdir(mode=0o700, parents=True, exist_ok=True)
                write_new_file(temp, blob)
                if self.path in survey.good:
                    self.path.replace(self.previous_path)
                    fsync_directory(directory)
                temp.replace(self.path)
                fsync_directory(directory)
            except OSError as exc:
                raise StoreError(f"store file {self.path}: cannot save: {exc.strerror}") from None
            finally:
                temp.unlink(missing_ok=True)
            self._generation = generation

    def open_or_recover(self) -> RecoveryResult:
        """Return the newest state that verifies, setting aside whatever does not.

        Files that fail verification are moved aside (never deleted, never overwritten) and
        listed in the result; temporary files of interrupted saves are deleted. With no
        verifiable generation the result is an empty state, so the app keeps working.

        Returns
        -------
        RecoveryResult
            The state, its generation and source file, and what was discarded.

        Raises
        ------
        StoreKeyError
            When no file verifies and at least one was written under a different key: that
            is a wrong key, not corruption, so nothing is moved aside.
        """
        if not self._has_files():  # nothing to recover: take no lock, create nothing
            return RecoveryResult(state={}, generation=0, source=None)
        with self.lock.hold(exclusive=not self.read_only):
            removed = () if self.read_only else self._remove_temp_files()
            if self._read(self.path) is None and self._read(self.previous_path) is None:
                return RecoveryResult(
                    state={}, generation=0, source=None, removed_temp_files=removed
                )
            survey = self._survey(self.key_provider.load_key())
            discarded = tuple(
                DiscardedFile(path=p, moved_to=None, reason=reason)
                if self.read_only
                else self._move_aside(p, reason)
                for p, reason in survey.bad.items()
            )
            if not survey.good:
                return RecoveryResult(
                    state={},
                    generation=0,
                    source=None,
                    discarded=discarded,
                    removed_temp_files=removed,
                )
            source, best = max(survey.good.items(), key=lambda item: item[1].generation)
            self._generation = max(self._generation, best.generation)
            return RecoveryResult(
                state=best.sections,
                generation=best.generation,
                source=source,
                discarded=discarded,
                removed_temp_files=removed,
            )

    def forget(self) -> None:
        """Erase the store: both generations, leftovers, files set aside, and the key.

        Files are unlinked, not overwritten first: on SSDs (wear levelling) and
        copy-on-write or journaling file systems an overwrite does not reach the old
        blocks, so it would only pretend to be safer. What protects the data is that every
        file is encrypted and the key is erased too (:meth:`KeyProvider.erase`).
        """
        self._writable("erase")
        directory = self.path.parent
        if not directory.is_dir():  # nothing was ever saved here: only a key may exist
            self.key_provider.erase()
            self._generation = 0
            return
        with self.lock.hold(exclusive=True):
            if directory.is_dir():
                for leftover in self._own_files(".tmp-", ".corrupt-", ".prev.corrupt-"):
                    leftover.unlink(missing_ok=True)
                self.path.unlink(missing_ok=True)
                self.previous_path.unlink(missing_ok=True)
            self.key_provider.erase()
            self._generation = 0
            self.lock.unlink()
            if directory.is_dir():
                fsync_directory(directory)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[int]:
        """Hold the store's exclusive lock for a read-modify-write.

        Yields
        ------
        int
            The newest generation on disk that verifies now (0 for none): a caller whose
            own copy is older reloads before changing and saving, so nothing another
            process saved meanwhile is overwritten.

        Raises
        ------
        StoreLockedError
            When another process keeps the lock past the timeout.
        StoreError
            When the store is read-only.
        """
        self._writable("change")
        with self.lock.hold(exclusive=True):
            yield self.disk_generation()

    def disk_generation(self) -> int:
        """Return the newest generation on disk that verifies (0 when there is none)."""
        with self.lock.hold(exclusive=False):
            if self._read(self.path) is None and self._read(self.previous_path) is None:
                return 0
            try:
                survey = self._survey(self.key_provider.load_key())
            except StoreKeyError:
                return 0
            return max((s.generation for s in survey.good.values()), default=0)

    def exists(self) -> bool:
        """Return whether any store file (a generation or an interrupted save) exists."""
        return self._has_files()

    def _has_files(self) -> bool:
        try:
            if self.path.exists() or self.previous_path.exists():
                return True
            return bool(self._own_files(".tmp-"))
        except OSError:  # e.g. a directory that cannot be searched: let reading say why
            return True

    def _writable(self, what: str) -> None:
        if self.read_only:
            raise StoreError(f"store file {self.path}: opened read-only; cannot {what} it")

    def _read(self, path: Path) -> bytes | None:
        try:
            return read_bounded(path, max_bytes=self.max_bytes, follow_symlinks=False)
        except DecodeError as exc:
            if exc.problem == "no such file":
                return None
            raise StoreError(f"store file {exc}") from None

    def _survey(self, key: bytes) -> _Survey:
        survey = _Survey()
        foreign: dict[Path, StoreKeyError] = {}
        for path in (self.path, self.previous_path):
            data = self._read(path)
            if data is None:
                continue
            try:
                survey.good[path] = unseal(data, key=key, path=path)
            except StoreIntegrityError as exc:
                survey.bad[path] = exc.reason
            except StoreKeyError as exc:
                foreign[path] = exc
        if foreign and not survey.good:
            raise next(iter(foreign.values()))
        for path in foreign:  # the other generation verifies under this key: damage, not a key
            survey.bad[path] = "key id differs from the verified generation's (damaged header)"
        return survey

    def _move_aside(self, path: Path, reason: str) -> DiscardedFile:
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        target = path.with_name(f"{path.name}.corrupt-{stamp}-{secrets.token_hex(4)}")
        try:
            path.rename(target)
            fsync_directory(path.parent)
        except OSError as exc:
            raise StoreError(f"store file {path}: cannot move it aside: {exc.strerror}") from None
        _log.warning("store file %s failed verification (%s); moved to %s", path, reason, target)
        return DiscardedFile(path=path, moved_to=target, reason=reason)

    def _remove_temp_files(self) -> tuple[Path, ...]:
        removed = tuple(self._own_files(".tmp-"))
        for temp in removed:
            temp.unlink(missing_ok=True)
        return removed

    def _own_files(self, *suffix_prefixes: str) -> list[Path]:
        directory = self.path.parent
        if not directory.is_dir():
            return []
        prefixes = tuple(f"{self.path.name}{suffix}" for suffix in suffix_prefixes)
        return sorted(p for p in directory.iterdir() if p.name.startswith(prefixes))
