"""Errors raised by :mod:`edge_client.audit` (messages name the field, never user data)."""

from __future__ import annotations

from edge_client.errors import EdgeProfilerError

__all__ = ["AuditError", "OutcomeStateError"]


class AuditError(EdgeProfilerError):
    """An outcome audit cannot run as asked (a round config, a contribution, a layout)."""


class OutcomeStateError(AuditError):
    """The stored outcome counts are malformed (they are reset, never half-read)."""
