"""Reading a file whole, but only a regular file and only up to a bound.

:func:`read_bounded` opens without blocking (a FIFO with no writer would otherwise hang the
``open``), refuses anything that is not a regular file (FIFOs, devices such as a symbolic
link to ``/dev/zero``, sockets, directories) and a file whose size exceeds the bound before
reading a byte of it, then reads at most ``max_bytes + 1`` bytes (a file growing meanwhile
is refused too). :func:`read_stream` applies the same bound to standard input.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import BinaryIO

from edge_client.decoding.errors import DecodeError

__all__ = ["open_regular", "read_bounded", "read_stream"]

_CHUNK = 1 << 20
_BASE_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_BINARY", 0)
)
_KINDS = (
    (stat.S_ISDIR, "is a directory"),
    (stat.S_ISFIFO, "is a FIFO (named pipe)"),
    (stat.S_ISCHR, "is a character device"),
    (stat.S_ISBLK, "is a block device"),
    (stat.S_ISSOCK, "is a socket"),
)


def _kind(mode: int) -> str:
    for test, words in _KINDS:
        if test(mode):
            return words
    return "is not a regular file"


def open_regular(
    path: str | Path, *, max_bytes: int, follow_symlinks: bool = True, source: str | None = None
) -> int:
    """Open a regular file for reading without blocking; return its descriptor.

    Parameters
    ----------
    path : str or pathlib.Path
        The file.
    max_bytes : int
        Largest size accepted; a larger file is refused before anything is read.
    follow_symlinks : bool
        ``False`` refuses a symbolic link in place of the file (stores and keys).
    source : str, optional
        Name used in messages (default: the path).

    Returns
    -------
    int
        An open descriptor of a regular file of at most ``max_bytes`` bytes; the caller
        closes it.

    Raises
    ------
    DecodeError
        When the file is missing, unreadable, a symbolic link (with ``follow_symlinks``
        off), not a regular file, or larger than ``max_bytes``.
    """
    name = str(path) if source is None else source
    flags = _BASE_FLAGS | (0 if follow_symlinks else getattr(os, "O_NOFOLLOW", 0))
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise DecodeError(name, "no such file") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP and not follow_symlinks:
            raise DecodeError(name, "is a symbolic link; refusing to follow it") from None
        if exc.errno == errno.ENXIO:  # a socket, or a FIFO opened write-only elsewhere
            raise DecodeError(name, "is not a regular file; refusing to read it") from None
        raise DecodeError(name, f"cannot read ({exc.strerror})") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            kind = _kind(info.st_mode)
            raise DecodeError(name, f"{kind}, not a regular file; refusing to read it")
        if info.st_size > max_bytes:
            raise DecodeError(
                name, f"is {info.st_size:,} bytes, larger than the {max_bytes:,}-byte limit"
            )
    except BaseException:
        os.close(fd)
        raise
    return fd


def _read_fd(fd: int, max_bytes: int, name: str) -> bytes:
    parts: list[bytes] = []
    size = 0
    while size <= max_bytes:
        try:
            chunk = os.read(fd, min(_CHUNK, max_bytes + 1 - size))
        except OSError as exc:
            raise DecodeError(name, f"cannot read ({exc.strerror})") from None
        if not chunk:
            break
        parts.append(chunk)
        size += len(chunk)
    if size > max_bytes:
        raise DecodeError(name, f"larger than the {max_bytes:,}-byte limit")
    return b"".join(parts)


def read_bounded(
    path: str | Path, *, max_bytes: int, follow_symlinks: bool = True, source: str | None = None
) -> bytes:
    """Read a whole regular file of at most ``max_bytes`` bytes.

    Parameters
    ----------
    path : str or pathlib.Path
        The file.
    max_bytes : int
        Largest size accepted.
    follow_symlinks : bool
        ``False`` refuses a symbolic link in place of the file.
    source : str, optional
        Name used in messages (default: the path).

    Returns
    -------
    bytes
        The contents.

    Raises
    ------
    DecodeError
        As :func:`open_regular`, and when the file grows past the bound while being read.
    """
    name = str(path) if source is None else source
    fd = open_regular(path, max_bytes=max_bytes, follow_symlinks=follow_symlinks, source=name)
    try:
        return _read_fd(fd, max_bytes, name)
    finally:
        os.close(fd)


def read_stream(stream: BinaryIO, *, max_bytes: int, source: str = "<stdin>") -> bytes:
    """Read a stream (standard input) to its end, refusing more than ``max_bytes`` bytes.

    Parameters
    ----------
    stream : BinaryIO
        The stream.
    max_bytes : int
        Largest size accepted.
    source : str
        Name used in messages.

    Returns
    -------
    bytes
        What was read.

    Raises
    ------
    DecodeError
        When the stream holds more than ``max_bytes`` bytes.
    """
    data = stream.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise DecodeError(source, f"larger than the {max_bytes:,}-byte limit")
    return data
