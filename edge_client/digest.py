"""SHA-256 on the profiling path without loading OpenSSL.

``hashlib`` takes SHA-256 from OpenSSL where Python links it, and importing ``hashlib``
loads and initialises ``libcrypto``: about 3.6 MB of resident memory and 4 ms, a tenth of
what the whole edge client may use at start. CPython also carries its own SHA-256 (the
module ``hashlib`` itself falls back to: ``_sha256`` up to Python 3.11, ``_sha2`` from
3.12, the verified HACL* code). The checks a profile needs (the models' and the taxonomy's
SHA-256 against their recorded values, the policy's hash) use that one; it is slower (about
240 MB/s here, 13 ms for both models against 2 ms) and gives the same digests. Where a
build lacks it, ``hashlib`` is used. Everything else (signing, keys, the store, secure
aggregation) keeps ``hashlib`` and ``cryptography``.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable
from typing import Protocol

__all__ = ["Hasher", "sha256"]

_BUILTIN_MODULES = ("_sha2", "_sha256")


class Hasher(Protocol):
    """The part of a ``hashlib`` hash object the edge client uses."""

    def update(self, data: bytes, /) -> None:
        """Add ``data`` to the hash."""

    def hexdigest(self) -> str:
        """Return the digest as lowercase hexadecimal."""


@functools.cache
def _constructor() -> Callable[[bytes], Hasher]:
    """CPython's built-in SHA-256, or ``hashlib.sha256`` where the build has none."""
    for name in _BUILTIN_MODULES:
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        found: Callable[[bytes], Hasher] = module.sha256
        return found
    import hashlib

    return hashlib.sha256


def sha256(data: bytes = b"") -> Hasher:
    """Return a SHA-256 hash object holding ``data`` (same digests as ``hashlib.sha256``).

    Parameters
    ----------
    data : bytes, default b""
        Initial data.

    Returns
    -------
    Hasher
        An object with ``update`` and ``hexdigest``.
    """
    return _constructor()(data)
