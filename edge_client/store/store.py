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

A save writes ``<name>.tmp-<hex>``, fsyncs it, renames ``<name>`` over ``<name>.prev``,
renames the new file over ``<name>`` and fsyncs the directory after each rename. A crash at
any point leaves either the new generation, or the last one as ``<name>`` or ``<name>.prev``.
One writer at a time: a store path must not be saved from two processes concurrently.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edge_client.store._fs import fsync_directory, temp_sibling, write_new_file
from edge_client.store.errors import StoreError, StoreIntegrityError, StoreKeyError
from edge_client.store.format import Sealed, seal, unseal
from edge_client.store.keys import FileKeyProvider, KeyProvider
from edge_client.store.recovery import DiscardedFile, RecoveryResult
from edge_client.store.state import State, validate_state

__all__ = ["EncryptedStore"]

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
        ``FileKeyProvider(<path>.key)``: a 0600 key file created on first use.
    """

    def __init__(self, path: Path, *, key_provider: KeyProvider | None = None) -> None:
        self.path = Path(path)
        self.previous_path = self.path.with_name(f"{self.path.name}.prev")
        self.key_provider: KeyProvider = (
            key_provider
            if key_provider is not None
            else FileKeyProvider(self.path.with_name(f"{self.path.name}.key"))
        )
        self._generation = 0
        self._lock = threading.Lock()

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
        with self._lock:
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
        validate_state(state)
        with self._lock:
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
        with self._lock:
            removed = self._remove_temp_files()
            if self._read(self.path) is None and self._read(self.previous_path) is None:
                return RecoveryResult(
                    state={}, generation=0, source=None, removed_temp_files=removed
                )
            survey = self._survey(self.key_provider.load_key())
            discarded = tuple(self._move_aside(p, reason) for p, reason in survey.bad.items())
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
        with self._lock:
            directory = self.path.parent
            if directory.is_dir():
                for leftover in self._own_files(".tmp-", ".corrupt-", ".prev.corrupt-"):
                    leftover.unlink(missing_ok=True)
                self.path.unlink(missing_ok=True)
                self.previous_path.unlink(missing_ok=True)
                fsync_directory(directory)
            self.key_provider.erase()
            self._generation = 0

    def _read(self, path: Path) -> bytes | None:
        try:
            return path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StoreError(f"store file {path}: cannot read: {exc.strerror}") from None

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
