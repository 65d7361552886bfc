"""Errors raised by :mod:`edge_client.behaviour`.

Messages name the event kind, the field and the policy rule; they never quote what a
person viewed or bought beyond the taxonomy node id the app passed in.
"""

from __future__ import annotations

from edge_client.errors import EdgeProfilerError
from edge_client.policy.errors import PolicyError

__all__ = ["BehaviourError", "BehaviourFormatError", "ForbiddenSignalError"]


class BehaviourError(EdgeProfilerError):
    """A behaviour event cannot be recorded as given (nothing was stored)."""


class ForbiddenSignalError(BehaviourError, PolicyError):
    """The policy in force forbids profiling this kind of behaviour (nothing was stored)."""


class BehaviourFormatError(BehaviourError):
    """Stored behaviour counts are malformed (the section is dropped, never half-read)."""
