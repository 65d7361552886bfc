"""The edge client's exception hierarchy.

Every error the edge client raises on purpose derives from :class:`EdgeProfilerError`,
which subclasses :class:`ValueError` so callers that only know the standard library can
still catch it. Messages name the problem (file, field, line) and never quote user text.
"""

from __future__ import annotations

__all__ = [
    "EdgeProfilerError",
    "InputError",
    "ModelError",
    "RuntimeUnavailableError",
    "TaxonomyError",
]


class EdgeProfilerError(ValueError):
    """Root of every error raised on purpose by :mod:`edge_client`."""


class InputError(EdgeProfilerError):
    """User input (text, file, JSON line) cannot be used; the message says why and where."""


class ModelError(EdgeProfilerError):
    """A model file is missing, corrupt, or does not have the expected signatures."""


class RuntimeUnavailableError(EdgeProfilerError):
    """No TensorFlow Lite runtime (LiteRT or tflite-runtime) can be imported."""


class TaxonomyError(EdgeProfilerError):
    """The interest taxonomy file is malformed."""
