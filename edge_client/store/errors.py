"""Errors raised by the encrypted local store.

All of them derive from :class:`StoreError`, itself an
:class:`~edge_client.errors.EdgeProfilerError`. Messages name the file and what failed;
they never quote the stored contents or any key material.
"""

from __future__ import annotations

from pathlib import Path

from edge_client.errors import EdgeProfilerError

__all__ = ["StoreError", "StoreIntegrityError", "StoreKeyError", "StoreValueError"]


class StoreError(EdgeProfilerError):
    """Root of every error raised on purpose by :mod:`edge_client.store`."""


class StoreIntegrityError(StoreError):
    """A store file does not verify: bad magic, unknown version, truncation or tampering.

    Parameters
    ----------
    path : pathlib.Path
        The file that failed verification.
    reason : str
        What failed, in plain words (never the file's contents).

    Attributes
    ----------
    path : pathlib.Path
        The file that failed verification.
    reason : str
        What failed.
    """

    def __init__(self, path: Path, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"store file {path}: {reason}")


class StoreKeyError(StoreError):
    """The key is unusable: wrong key, unsafe key file, missing or malformed key material."""


class StoreValueError(StoreError):
    """A state handed to :meth:`EncryptedStore.save` cannot be serialized faithfully."""
