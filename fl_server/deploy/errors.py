"""Errors of the loopback deployment tooling, under the federated server's error root."""

from __future__ import annotations

from fl_server.errors import ServerError

__all__ = ["CredentialError", "DeployError", "LaunchError"]


class DeployError(ServerError):
    """Root of every error raised on purpose by :mod:`fl_server.deploy`."""


class CredentialError(DeployError):
    """A certificate or key cannot be written, read or is not what it should be."""


class LaunchError(DeployError):
    """A Flower process did not start, did not become ready or the run did not finish."""
