"""An operating-system lock on a store: one writer at a time, across processes and objects.

The lock lives in ``<name>.lock`` beside the store (the store file itself is replaced by a
rename on every save, so it cannot carry a lock). Writers take it exclusively, readers
shared; both wait a bounded time and then raise :class:`StoreLockedError` saying the store
is in use by another process. The lock is an ``flock(2)`` lock: it is tied to the open
file, so two objects in one process exclude each other too, and the operating system drops
it when the holder dies (a crashed writer never leaves a stale lock). On Windows
``msvcrt.locking`` is used and a shared lock is taken as an exclusive one.

Readers never create the lock file: where none exists yet (no writer has run, or the
directory is read-only) they read without a lock, which is safe because saves are atomic
renames and a reader always sees a whole generation.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from edge_client.store.errors import StoreError

__all__ = ["DEFAULT_LOCK_TIMEOUT", "StoreLock", "StoreLockedError"]

DEFAULT_LOCK_TIMEOUT = 10.0
"""Seconds a store waits for another process's lock before giving up."""

_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_POLL_FIRST, _POLL_MAX = 0.005, 0.1

try:  # POSIX
    import fcntl

    def _try_lock(fd: int, *, exclusive: bool) -> bool:
        try:
            fcntl.flock(fd, (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)

except ImportError:  # pragma: no cover - Windows
    import msvcrt

    def _try_lock(fd: int, *, exclusive: bool) -> bool:
        del exclusive  # msvcrt has exclusive byte-range locks only
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)  # type: ignore[attr-defined]  # Windows only
        except OSError:
            return False
        return True

    def _unlock(fd: int) -> None:
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)  # type: ignore[attr-defined]  # Windows only


class StoreLockedError(StoreError):
    """Another process (or another object) holds the store's lock past the wait."""


class StoreLock:
    """The lock of one store, re-entrant within the object that holds it.

    Parameters
    ----------
    path : pathlib.Path
        The lock file (``<store>.lock``); created with mode 0600 by the first writer.
    timeout : float
        Seconds to wait for another holder before :class:`StoreLockedError`.
    """

    def __init__(self, path: Path, *, timeout: float = DEFAULT_LOCK_TIMEOUT) -> None:
        self.path = Path(path)
        self.timeout = timeout
        self._mutex = threading.RLock()
        self._fd: int | None = None
        self._exclusive = False
        self._depth = 0

    def _open(self, *, exclusive: bool) -> int | None:
        if not exclusive:
            # Readers never create anything: without a lock file no writer has locked yet,
            # and saves are atomic renames, so reading unlocked still sees whole generations.
            try:
                return os.open(self.path, os.O_RDONLY | _NOFOLLOW | _CLOEXEC)
            except OSError:
                return None
        try:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            return os.open(self.path, os.O_RDWR | os.O_CREAT | _NOFOLLOW | _CLOEXEC, 0o600)
        except OSError as exc:
            raise StoreError(
                f"store {self.path.with_suffix('')}: cannot be changed: its lock file "
                f"{self.path} cannot be opened for writing ({exc.strerror}; "
                "is the directory read-only?)"
            ) from None

    def _wait(self, fd: int, *, exclusive: bool, deadline: float) -> None:
        pause = _POLL_FIRST
        while not _try_lock(fd, exclusive=exclusive):
            if time.monotonic() >= deadline:
                os.close(fd)
                mode = "write" if exclusive else "read"
                raise StoreLockedError(
                    f"store {self.path.with_suffix('')} is in use by another process "
                    f"(waited {self.timeout:g} s to {mode} it; lock file {self.path}); "
                    "try again when it is done"
                )
            time.sleep(pause)
            pause = min(pause * 2, _POLL_MAX)

    def _acquire(self, *, exclusive: bool) -> int | None:
        deadline = time.monotonic() + self.timeout
        while True:
            fd = self._open(exclusive=exclusive)
            if fd is None:
                return None
            self._wait(fd, exclusive=exclusive, deadline=deadline)
            # The holder before us may have erased the store and unlinked this lock file
            # (forget): a lock on an unlinked file excludes no one, so lock the new one.
            try:
                current = self.path.lstat()
            except FileNotFoundError:
                current = None
            mine = os.fstat(fd)
            if current is not None and (current.st_dev, current.st_ino) == (
                mine.st_dev,
                mine.st_ino,
            ):
                return fd
            _unlock(fd)
            os.close(fd)
            if current is None and not exclusive:
                return None

    def unlink(self) -> None:
        """Remove the lock file while holding it exclusively (when a store is erased).

        Waiters notice that their lock is on a removed file and lock the new one.
        """
        if not (self.held and self._exclusive):
            raise RuntimeError("store lock: unlink needs an exclusive hold")
        self.path.unlink(missing_ok=True)

    @contextlib.contextmanager
    def hold(self, *, exclusive: bool) -> Iterator[None]:
        """Hold the lock for the ``with`` block (nested holds reuse the outer one).

        Parameters
        ----------
        exclusive : bool
            ``True`` for writing, ``False`` for reading. A shared hold cannot be upgraded:
            an exclusive hold nested in a shared one is a programming error.

        Raises
        ------
        StoreLockedError
            When another holder keeps the lock past :attr:`timeout`.
        StoreError
            When the lock file cannot be created for writing.
        """
        with self._mutex:
            if self._depth:
                if exclusive and not self._exclusive:
                    raise RuntimeError("store lock: cannot upgrade a shared hold to exclusive")
                self._depth += 1
                try:
                    yield
                finally:
                    self._depth -= 1
                return
            fd = self._acquire(exclusive=exclusive)
            self._fd, self._exclusive, self._depth = fd, exclusive, 1
            try:
                yield
            finally:
                self._depth = 0
                self._fd = None
                if fd is not None:
                    _unlock(fd)
                    os.close(fd)

    @property
    def held(self) -> bool:
        """Whether this object holds the lock now."""
        return self._depth > 0
