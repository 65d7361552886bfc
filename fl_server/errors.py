"""Errors of the federated server, under the edge client's federated error root."""

from __future__ import annotations

from edge_client.federated.errors import FederatedError

__all__ = ["BudgetExhaustedError", "CheckpointError", "ServerConfigError", "ServerError"]


class ServerError(FederatedError):
    """Root of every error raised on purpose by :mod:`fl_server`."""


class ServerConfigError(ServerError):
    """A run-config value is missing, has the wrong type or is out of range."""


class CheckpointError(ServerError):
    """A checkpoint cannot be read, or belongs to another policy or model."""


class BudgetExhaustedError(ServerError):
    """Another round would exceed the policy's (ε, δ) budget."""
