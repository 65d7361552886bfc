"""Errors of federated training on the device and the server.

Every error derives from :class:`FederatedError`, an
:class:`~edge_client.errors.EdgeProfilerError`. Messages name the file, field or round at
fault and never quote user text, weights or key material.
"""

from __future__ import annotations

from edge_client.errors import EdgeProfilerError

__all__ = [
    "BundleError",
    "FederatedError",
    "RoundConfigError",
    "UpdateError",
]


class FederatedError(EdgeProfilerError):
    """Root of every error raised on purpose by federated training."""


class RoundConfigError(FederatedError):
    """A round's configuration is malformed (a field has the wrong type or is missing)."""


class BundleError(FederatedError):
    """A model bundle is malformed, tampered with, unsigned by a trusted key, or stale."""


class UpdateError(FederatedError):
    """A model update cannot be computed or clipped (shapes differ, values not finite)."""
