"""Small durable-filesystem helpers shared by the key provider and the store.

The pattern used throughout: write a new file under a temporary name in the destination
directory, flush and ``fsync`` it, move it into place with one atomic rename (or link), then
``fsync`` the directory so the rename itself survives a power cut.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

__all__ = ["OPEN_NOFOLLOW", "fsync_directory", "temp_sibling", "write_new_file"]

#: ``O_NOFOLLOW`` where the platform has it (POSIX), else 0 (Windows has no such flag).
OPEN_NOFOLLOW: int = getattr(os, "O_NOFOLLOW", 0)
_OPEN_CLOEXEC: int = getattr(os, "O_CLOEXEC", 0)
_OPEN_BINARY: int = getattr(os, "O_BINARY", 0)


def fsync_directory(directory: Path) -> None:
    """Flush a directory's entries (renames, creations, unlinks) to stable storage.

    Parameters
    ----------
    directory : pathlib.Path
        The directory whose entries changed.

    Notes
    -----
    Windows cannot open a directory for ``fsync``; there the call does nothing and NTFS
    metadata journaling is relied upon instead.
    """
    if os.name == "nt":
        return
    fd = os.open(directory, os.O_RDONLY | _OPEN_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def temp_sibling(path: Path, *, hidden: bool = False) -> Path:
    """Return an unused temporary name next to ``path`` (same directory, same filesystem).

    Parameters
    ----------
    path : pathlib.Path
        The final destination.
    hidden : bool
        Prefix the name with a dot.

    Returns
    -------
    pathlib.Path
        ``<dir>/[.]<name>.tmp-<16 random hex digits>``.
    """
    prefix = "." if hidden else ""
    return path.with_name(f"{prefix}{path.name}.tmp-{secrets.token_hex(8)}")


def write_new_file(path: Path, data: bytes) -> None:
    """Create ``path`` (which must not exist) with mode 0600, write ``data`` and fsync it.

    Parameters
    ----------
    path : pathlib.Path
        A file name that does not exist yet; the call fails with :class:`FileExistsError`
        rather than follow or overwrite anything.
    data : bytes
        The complete contents.

    Raises
    ------
    OSError
        When the file cannot be created or written; a partial file is removed.
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | OPEN_NOFOLLOW | _OPEN_CLOEXEC | _OPEN_BINARY
    fd = os.open(path, flags, 0o600)
    try:
        if os.name != "nt":
            os.fchmod(fd, 0o600)  # the umask can only remove bits; make the mode exact
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        path.unlink(missing_ok=True)
        raise
    os.close(fd)
