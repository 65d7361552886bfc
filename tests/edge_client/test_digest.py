"""Tests for the SHA-256 used on the profiling path."""

from __future__ import annotations

import hashlib
import importlib

import pytest

from edge_client import digest


@pytest.mark.parametrize("size", [0, 1, 63, 64, 65, 1000, 262_145])
def test_digests_equal_hashlib(size: int) -> None:
    """Whole and chunked input give hashlib's SHA-256, whatever the length."""
    data = bytes(range(256)) * (size // 256 + 1)
    data = data[:size]
    assert digest.sha256(data).hexdigest() == hashlib.sha256(data).hexdigest()
    chunked = digest.sha256()
    for start in range(0, size, 1000):
        chunked.update(data[start : start + 1000])
    assert chunked.hexdigest() == hashlib.sha256(data).hexdigest()


def test_without_a_builtin_sha256_hashlib_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    """A Python built without its own SHA-256 falls back to hashlib (same digests)."""
    real = importlib.import_module

    def refuse(name: str, package: str | None = None) -> object:
        if name in ("_sha2", "_sha256"):
            raise ImportError(name)
        return real(name, package)

    monkeypatch.setattr(importlib, "import_module", refuse)
    digest._constructor.cache_clear()
    try:
        assert digest._constructor() is hashlib.sha256
        assert digest.sha256(b"abc").hexdigest() == hashlib.sha256(b"abc").hexdigest()
    finally:
        digest._constructor.cache_clear()
