"""Errors of secure aggregation, and the reasons an honest device refuses a round.

Every error derives from :class:`SecAggError`, an
:class:`~edge_client.errors.EdgeProfilerError`. A :class:`RefusalError` carries a
:class:`Refusal` code, which the device logs and counts and the server counts by reason;
messages name the stage and the check and never hold key material or user data.
"""

from __future__ import annotations

import enum

from edge_client.errors import EdgeProfilerError

__all__ = ["IdentityError", "Refusal", "RefusalError", "SecAggError"]


class Refusal(enum.Enum):
    """Why an honest device refused (or a server dropped) a secure-aggregation step."""

    POLICY = "policy"
    MALFORMED = "malformed"
    STAGE_ORDER = "stage_order"
    REPLAY = "replay"
    SESSION = "session_mismatch"
    MODEL_HASH = "model_hash"
    COHORT_UNDER_K = "cohort_under_k"
    PARAMETERS = "unsafe_parameters"
    NOISE = "noise_below_policy"
    IDENTITY = "untrusted_identity"
    SIGNATURE = "bad_signature"
    DUPLICATE = "duplicate_identity"
    OWN_KEYS = "own_keys_altered"
    CIPHERTEXT = "bad_ciphertext"
    NEIGHBOURS = "neighbour_set"
    INCONSISTENT = "inconsistent_sets"
    UNDER_THRESHOLD = "survivors_under_threshold"
    CONFIRMATIONS = "too_few_confirmations"
    NO_IDENTITY = "no_identity"


class SecAggError(EdgeProfilerError):
    """Root of every error raised on purpose by secure aggregation."""


class IdentityError(SecAggError):
    """A device identity, certificate or identity file is missing, malformed or untrusted."""


class RefusalError(SecAggError):
    """An honest party refuses a step of the protocol.

    Parameters
    ----------
    reason
        The check that failed.
    detail
        What was wrong (no key material, no user data).
    """

    def __init__(self, reason: Refusal, detail: str) -> None:
        super().__init__(f"{reason.value}: {detail}")
        self.reason = reason
        self.detail = detail
