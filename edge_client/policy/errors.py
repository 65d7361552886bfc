"""Errors raised by the policy package.

Every error derives from :class:`PolicyError`, itself an
:class:`~edge_client.errors.EdgeProfilerError`. Refusals of a new signed policy each have
their own class so a device can log exactly why it kept the policy in force.
Messages name the file, the dotted field and the line; they never quote user text or keys.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from edge_client.errors import EdgeProfilerError

if TYPE_CHECKING:
    from edge_client.policy.problems import Problem

__all__ = [
    "AccountantUnavailableError",
    "ConsentError",
    "DowngradeError",
    "ExpiredPolicyError",
    "KeyFileError",
    "PolicyError",
    "PolicyRefusedError",
    "PolicyValidationError",
    "TamperedPolicyError",
    "TrustStoreError",
    "UnknownKeyError",
    "UnknownNodeError",
    "UnsignedPolicyError",
]


class PolicyError(EdgeProfilerError):
    """Root of every error raised on purpose by :mod:`edge_client.policy`."""


class PolicyValidationError(PolicyError):
    """A policy document is invalid; :attr:`problems` lists every error found.

    Parameters
    ----------
    problems
        The problems found (errors and warnings); at least one is an error.
    """

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        errors = [str(p) for p in self.problems if p.is_error]
        count = len(errors)
        head = f"{count} error{'s' if count != 1 else ''} in policy"
        super().__init__(head + ":\n  " + "\n  ".join(errors))


class AccountantUnavailableError(PolicyError):
    """The ``dp_accounting`` package (a dependency of edge-profiler) cannot be imported."""


class UnknownNodeError(PolicyError):
    """A policy names an interest node the taxonomy in use does not contain."""


class ConsentError(PolicyError):
    """A purpose is not allowed by the policy, or needs an opt-in that was not granted."""


class KeyFileError(PolicyError):
    """A signing or public key file cannot be read."""


class TrustStoreError(PolicyError):
    """A trust store of public keys is missing, empty or malformed."""


class PolicyRefusedError(PolicyError):
    """A new signed policy bundle was refused; the policy in force stays in force."""


class UnsignedPolicyError(PolicyRefusedError):
    """The document is not a signed bundle, or its signature field is missing."""


class TamperedPolicyError(PolicyRefusedError):
    """The signature does not match the content, or a same-version policy differs."""


class ExpiredPolicyError(PolicyRefusedError):
    """The bundle is past its expiry time, or not valid yet."""


class UnknownKeyError(PolicyRefusedError):
    """The bundle was signed by a key the trust store does not hold."""


class DowngradeError(PolicyRefusedError):
    """The bundle's version is lower than the version in force."""
