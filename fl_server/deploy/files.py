"""Private files and folders: everything the deployment tooling writes is 0600 in 0700.

Certificates, keys, Flower's ``config.toml`` and process logs of a local deployment are
all written through :func:`write_private` into folders made by :func:`private_dir`, so no
other local account can read a private key or swap a trusted certificate.
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

from fl_server.deploy.errors import CredentialError

__all__ = ["FILE_MODE", "FOLDER_MODE", "is_private", "private_dir", "write_private"]

FILE_MODE = 0o600
FOLDER_MODE = 0o700


def private_dir(path: str | Path) -> Path:
    """Create ``path`` (and missing parents) and set it to mode 0700.

    Parameters
    ----------
    path
        The folder.

    Returns
    -------
    Path
        The folder.

    Raises
    ------
    CredentialError
        When the folder cannot be created or is not a folder.
    """
    folder = Path(path)
    try:
        folder.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
        folder.chmod(FOLDER_MODE)
    except OSError as exc:
        raise CredentialError(f"{folder}: cannot create private folder ({exc.strerror})") from None
    if not folder.is_dir():
        raise CredentialError(f"{folder}: is not a folder")
    return folder


def write_private(path: str | Path, data: bytes, *, overwrite: bool = False) -> Path:
    """Write ``data`` to ``path`` with mode 0600, atomically, in a 0700 folder.

    Parameters
    ----------
    path
        The file.
    data
        Its content.
    overwrite
        Replace an existing file (otherwise an existing file is an error).

    Returns
    -------
    Path
        The file.

    Raises
    ------
    CredentialError
        When the file exists (and ``overwrite`` is false) or cannot be written.
    """
    file = Path(path)
    folder = private_dir(file.parent)
    if file.exists() and not overwrite:
        raise CredentialError(f"{file}: exists; refusing to overwrite (use overwrite)")
    # mkstemp creates the file 0600 from the start, so no window exists with wider access.
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".{file.name}.")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        Path(temporary).chmod(FILE_MODE)
        Path(temporary).replace(file)
    except OSError as exc:
        Path(temporary).unlink(missing_ok=True)
        raise CredentialError(f"{file}: cannot write ({exc.strerror})") from None
    return file


def is_private(path: str | Path) -> bool:
    """Return whether ``path`` grants no access to group or others."""
    mode = Path(path).stat().st_mode
    return not mode & (stat.S_IRWXG | stat.S_IRWXO)
