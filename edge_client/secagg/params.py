"""A secure round's parameters, the session they define, and the checks an honest device makes.

The server sends :class:`RoundParams` with the round's configuration (field ``secagg``).
Its canonical bytes, hashed, are the *session id*; every signature of the protocol covers
the session id, so a device that signs has seen the same policy, model hash, round,
cohort, survivor minimum, graph degree, fixed-point scale and noise as every device whose
signature it accepts (a server that shows two devices different models or cohorts is
caught at the next stage: their signatures do not verify against each other's session).

:func:`check_params` is what a device checks before it makes any key: the model hash is the
hash of the signed bundle it verified, it is in a cohort of at least the policy's
``min_cohort``, the published sum must hold at least ``min_survivors`` devices (at least
``k``, and more than two thirds of the cohort, so a survivor-set fork needs a majority of
signatures), the neighbour graph is not sparser than :data:`MIN_NEIGHBOURS`, the sum
cannot wrap around, and its own noise share is at least the policy's noise multiplier
times the rounded sensitivity over ``√min_survivors``.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

from edge_client.policy.distributed_accounting import minimum_device_noise, rounded_l2_bound
from edge_client.secagg.encoding import Layout, headroom_ok
from edge_client.secagg.errors import Refusal, RefusalError
from edge_client.secagg.wire import pack, unpack

__all__ = ["FORMAT", "MAX_SCALE_BITS", "MIN_SCALE_BITS", "RoundParams", "check_params"]

FORMAT = "edgeprof-secagg/1"
_SESSION_DOMAIN = b"edgeprof secagg session v1\x00"
MIN_SCALE_BITS = 8
"""Coarsest fixed-point scale accepted."""
MAX_SCALE_BITS = 30
"""Finest fixed-point scale accepted."""


@dataclass(frozen=True)
class RoundParams:
    """What every device of a secure round must agree on.

    Attributes
    ----------
    policy_hash, model, model_hash, server_round
        The policy, the model name and the SHA-256 of the signed bundle, the round.
    nonce
        32 random bytes chosen by the server (a fresh session each round).
    cohort
        The sampled node ids, increasing.
    min_survivors
        Fewest devices whose inputs the published sum may hold.
    neighbours
        Requested degree of the neighbour graph (0: complete).
    scale_bits
        Fixed-point scale ``2**scale_bits``.
    noise_std
        Each device's discrete Gaussian standard deviation (integer domain).
    clipping_norm
        The round's clipping norm.
    shapes
        ``(name, shape)`` of each weight, in name order.
    metrics
        Metric names summed securely, in order.
    """

    policy_hash: str
    model: str
    model_hash: str
    server_round: int
    nonce: bytes
    cohort: tuple[int, ...]
    min_survivors: int
    neighbours: int
    scale_bits: int
    noise_std: float
    clipping_norm: float
    shapes: tuple[tuple[str, tuple[int, ...]], ...]
    metrics: tuple[str, ...]

    @property
    def layout(self) -> Layout:
        """Return the encoding layout."""
        return Layout(self.shapes, self.metrics)

    def to_bytes(self) -> bytes:
        """Return the canonical bytes (what the session id hashes)."""
        return pack(
            {
                "format": FORMAT,
                "policy_hash": self.policy_hash,
                "model": self.model,
                "model_hash": self.model_hash,
                "server_round": self.server_round,
                "nonce": self.nonce,
                "cohort": list(self.cohort),
                "min_survivors": self.min_survivors,
                "neighbours": self.neighbours,
                "scale_bits": self.scale_bits,
                "noise_std": float(self.noise_std),
                "clipping_norm": float(self.clipping_norm),
                "shapes": [[name, list(shape)] for name, shape in self.shapes],
                "metrics": list(self.metrics),
            }
        )

    @property
    def session(self) -> bytes:
        """Return the session id: SHA-256 of the canonical bytes."""
        return hashlib.sha256(_SESSION_DOMAIN + self.to_bytes()).digest()

    @classmethod
    def from_bytes(cls, blob: object) -> RoundParams:
        """Parse the ``secagg`` field of a round's configuration.

        Raises
        ------
        RefusalError
            When a field is missing, mistyped or out of range.
        """
        fields = unpack(blob, "secagg parameters")
        if fields.text("format") != FORMAT:
            raise RefusalError(Refusal.MALFORMED, f"secagg parameters: format is not {FORMAT!r}")
        return cls(
            policy_hash=fields.text("policy_hash", most=128),
            model=fields.text("model", most=64),
            model_hash=fields.text("model_hash", most=128),
            server_round=fields.integer("server_round"),
            nonce=fields.bytes_("nonce", size=32),
            cohort=fields.nodes("cohort"),
            min_survivors=fields.integer("min_survivors", low=1),
            neighbours=fields.integer("neighbours", high=2**31),
            scale_bits=fields.integer("scale_bits", low=MIN_SCALE_BITS, high=MAX_SCALE_BITS),
            noise_std=fields.number("noise_std"),
            clipping_norm=fields.number("clipping_norm"),
            shapes=fields.shapes("shapes"),
            metrics=fields.texts("metrics"),
        )


def check_params(
    params: RoundParams,
    *,
    node: int,
    policy_hash: str,
    model: str,
    server_round: int,
    bundle_hash: str,
    shapes: tuple[tuple[str, tuple[int, ...]], ...],
    allowed_metrics: frozenset[str],
    min_cohort: int,
    noise_multiplier: float,
    clipping_norm: float,
) -> None:
    """Refuse (raise) unless ``params`` describe a round this device may join.

    Parameters
    ----------
    params
        The round's parameters as received.
    node
        This device's node id.
    policy_hash, model, server_round
        From the verified round configuration.
    bundle_hash
        SHA-256 (hex) of the signed bundle the device verified.
    shapes
        The verified model's weight shapes, in name order.
    allowed_metrics
        Metric names the policy allows.
    min_cohort, noise_multiplier
        The policy's ``min_cohort`` and ``noise_multiplier``.
    clipping_norm
        The round configuration's clipping norm (already checked against the policy).

    Raises
    ------
    RefusalError
        Naming the check that failed.
    """
    if params.model_hash != bundle_hash:
        raise RefusalError(
            Refusal.MODEL_HASH, "the round's model hash is not the hash of the signed bundle"
        )
    if (params.policy_hash, params.model, params.server_round) != (
        policy_hash,
        model,
        server_round,
    ):
        raise RefusalError(Refusal.SESSION, "secagg parameters name another policy, model or round")
    if params.shapes != shapes or not set(params.metrics) <= allowed_metrics:
        raise RefusalError(
            Refusal.PARAMETERS, "the layout names other weights or metrics than allowed"
        )
    if params.clipping_norm != clipping_norm:
        raise RefusalError(Refusal.PARAMETERS, "secagg clipping norm differs from the round's")
    cohort = len(params.cohort)
    if node not in params.cohort:
        raise RefusalError(Refusal.COHORT_UNDER_K, "this device is not in the round's cohort")
    if cohort < min_cohort or params.min_survivors < min_cohort:
        raise RefusalError(
            Refusal.COHORT_UNDER_K,
            f"cohort {cohort} or survivor minimum {params.min_survivors} below k={min_cohort}",
        )
    if not (3 * params.min_survivors > 2 * cohort and params.min_survivors <= cohort):
        raise RefusalError(
            Refusal.PARAMETERS, "survivor minimum must exceed two thirds of the cohort"
        )
    if not headroom_ok(
        cohort=cohort,
        clipping_norm=params.clipping_norm,
        scale_bits=params.scale_bits,
        noise_std=params.noise_std,
    ):
        raise RefusalError(Refusal.PARAMETERS, "the fixed-point scale lets the sum wrap around")
    sensitivity = rounded_l2_bound(
        params.clipping_norm * 2**params.scale_bits, dim=max(params.layout.weight_dim, 1)
    )
    floor = minimum_device_noise(
        noise_multiplier=noise_multiplier, l2_sensitivity=sensitivity, parties=params.min_survivors
    )
    if not (math.isfinite(params.noise_std) and params.noise_std >= floor):
        raise RefusalError(
            Refusal.NOISE,
            f"noise share {params.noise_std:.6g} is below the policy's {floor:.6g} "
            f"(z={noise_multiplier:g} over {params.min_survivors} survivors)",
        )
