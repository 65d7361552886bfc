"""Fixed-point encoding of an update (and its allowed metrics) in the ring of integers mod 2³².

A device's clipped float update is flattened (weights in name order), scaled by
``2**scale_bits``, rounded to integers by *conditional randomized rounding* (each value up
or down with probability given by its fraction, re-drawn until the rounded norm is within
:func:`~edge_client.policy.distributed_accounting.rounded_l2_bound`, so the sensitivity
the noise is calibrated to holds), given its share of discrete Gaussian noise, and
followed by the allowed metrics as non-negative integers (``num_examples`` as counted,
``loss`` and ``update_norm`` in units of 2⁻¹⁰, each capped so that the sum over the cohort
cannot wrap). Metrics get no noise: the server learns their sums, never a device's value.

:func:`headroom_ok` is the check that the sum of a whole cohort can never wrap around
2³² (every coordinate of a clipped update is at most the clipping norm, and the noise is
bounded at 12 standard deviations), so modular clipping cannot happen; the benchmark
measures it anyway.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt

from edge_client.policy.distributed_accounting import rounded_l2_bound
from edge_client.secagg.errors import SecAggError
from edge_client.secagg.noise import discrete_gaussian

__all__ = [
    "METRIC_SCALE",
    "MODULUS_BITS",
    "Layout",
    "decode_sum",
    "encode_update",
    "headroom_ok",
    "quantize",
    "to_ring",
]

MODULUS_BITS = 32
METRIC_SCALE: Mapping[str, int] = {"num_examples": 1, "loss": 2**10, "update_norm": 2**10}
_HALF = 2 ** (MODULUS_BITS - 1)
_TAIL = 12.0
_ROUNDING_TRIES = 100


class Layout:
    """Where each weight and metric sits in the encoded vector.

    Parameters
    ----------
    shapes
        ``(name, shape)`` of each weight, in name order.
    metrics
        Metric names, in order.
    """

    def __init__(
        self, shapes: Sequence[tuple[str, tuple[int, ...]]], metrics: Sequence[str]
    ) -> None:
        unknown = [m for m in metrics if m not in METRIC_SCALE]
        if unknown or list(metrics) != sorted(set(metrics)):
            raise SecAggError(f"layout: metrics must be sorted names of {sorted(METRIC_SCALE)}")
        if [n for n, _ in shapes] != sorted({n for n, _ in shapes}):
            raise SecAggError("layout: weights must be in name order, each once")
        self.shapes = tuple((name, tuple(int(d) for d in shape)) for name, shape in shapes)
        self.metrics = tuple(metrics)
        self.weight_dim = sum(math.prod(shape) for _, shape in self.shapes)

    @property
    def dim(self) -> int:
        """Return the length of the encoded vector."""
        return self.weight_dim + len(self.metrics)


def headroom_ok(*, cohort: int, clipping_norm: float, scale_bits: int, noise_std: float) -> bool:
    """Return whether a cohort's sum can never wrap around the modulus.

    Parameters
    ----------
    cohort
        Most devices whose vectors are summed.
    clipping_norm
        L2 clipping norm of each update (so each coordinate is at most this).
    scale_bits
        Fixed-point scale ``2**scale_bits``.
    noise_std
        Per-device noise standard deviation (integer domain).

    Returns
    -------
    bool
        ``cohort·(C·2^k + 1) + 12·σ·√cohort < 2³¹``.
    """
    largest = cohort * (clipping_norm * 2**scale_bits + 1) + _TAIL * noise_std * math.sqrt(cohort)
    return bool(largest < _HALF)


def quantize(
    update: Mapping[str, npt.ArrayLike],
    layout: Layout,
    *,
    scale_bits: int,
    clipping_norm: float,
    rng: np.random.Generator,
) -> npt.NDArray[np.int64]:
    """Return the conditionally randomized rounding of the scaled, flattened weights.

    Raises
    ------
    SecAggError
        When the update does not match the layout, or no rounding within the bound is
        found (it would only happen if the update was not clipped).
    """
    if set(update) != {name for name, _ in layout.shapes}:
        raise SecAggError("encode: the update's weight names differ from the layout")
    parts = []
    for name, shape in layout.shapes:
        array = np.asarray(update[name], np.float64)
        if array.shape != shape:
            raise SecAggError(f"encode: weight {name!r} has shape {array.shape}, expected {shape}")
        parts.append(array.ravel())
    scaled = np.concatenate(parts) * float(2**scale_bits) if parts else np.zeros(0)
    bound = rounded_l2_bound(clipping_norm * 2**scale_bits, dim=max(layout.weight_dim, 1))
    floor = np.floor(scaled)
    fraction = scaled - floor
    for _ in range(_ROUNDING_TRIES):
        rounded = floor + (rng.random(scaled.shape) < fraction)
        if float(np.sqrt(np.dot(rounded, rounded))) <= bound:
            return rounded.astype(np.int64)
    raise SecAggError("encode: no randomized rounding within the norm bound (update not clipped?)")


def to_ring(values: npt.NDArray[np.int64]) -> npt.NDArray[np.uint32]:
    """Return integers modulo 2³² as ``uint32`` (two's complement for negatives)."""
    return (values & 0xFFFFFFFF).astype(np.uint32)


def _metric(name: str, value: float, cohort: int) -> int:
    cap = (_HALF - 1) // max(cohort, 1)
    scaled = float(value) * METRIC_SCALE[name]
    if not math.isfinite(scaled):
        return 0
    return int(min(max(round(scaled), 0), cap))


def encode_update(
    update: Mapping[str, npt.ArrayLike],
    metrics: Mapping[str, float],
    layout: Layout,
    *,
    scale_bits: int,
    clipping_norm: float,
    noise_std: float,
    cohort: int,
    rng: np.random.Generator,
) -> npt.NDArray[np.uint32]:
    """Return a device's encoded, noised vector (before masking).

    Parameters
    ----------
    update
        The clipped update (weight name to array).
    metrics
        The device's metrics; only the layout's are encoded (missing ones as 0).
    layout
        The round's layout.
    scale_bits
        Fixed-point scale.
    clipping_norm
        The round's clipping norm.
    noise_std
        This device's discrete Gaussian standard deviation (integer domain).
    cohort
        The round's cohort size (caps the metrics).
    rng
        Randomness for rounding and noise (seeded from the OS).

    Returns
    -------
    numpy.ndarray
        ``uint32`` vector of length ``layout.dim``.
    """
    rounded = quantize(update, layout, scale_bits=scale_bits, clipping_norm=clipping_norm, rng=rng)
    noisy = rounded + discrete_gaussian(rng, noise_std, rounded.size)
    tail = np.array(
        [_metric(name, metrics.get(name, 0.0), cohort) for name in layout.metrics], np.int64
    )
    return to_ring(np.concatenate([noisy, tail]))


def decode_sum(
    total: npt.NDArray[np.uint32], layout: Layout, *, scale_bits: int
) -> tuple[dict[str, npt.NDArray[np.float32]], dict[str, float]]:
    """Return the float sums of the weights and the metrics of an unmasked total.

    Parameters
    ----------
    total
        The unmasked sum modulo 2³².
    layout
        The round's layout.
    scale_bits
        The round's fixed-point scale.

    Returns
    -------
    tuple[dict[str, numpy.ndarray], dict[str, float]]
        Summed (noised) updates per weight, and summed metrics.
    """
    if total.shape != (layout.dim,) or total.dtype != np.uint32:
        raise SecAggError(f"decode: expected uint32 of shape ({layout.dim},)")
    signed = total.view(np.int32).astype(np.float64)
    weights: dict[str, npt.NDArray[np.float32]] = {}
    offset = 0
    for name, shape in layout.shapes:
        size = math.prod(shape)
        values = signed[offset : offset + size] / float(2**scale_bits)
        weights[name] = values.reshape(shape).astype(np.float32)
        offset += size
    metrics = {
        name: float(signed[offset + i]) / METRIC_SCALE[name]
        for i, name in enumerate(layout.metrics)
    }
    return weights, metrics
