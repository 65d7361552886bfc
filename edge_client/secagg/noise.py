"""Discrete Gaussian noise for distributed differential privacy, sampled on the device.

:func:`discrete_gaussian` draws integers with probability proportional to
``exp(−x²/(2σ²))`` by the rejection sampler of Canonne, Kamath and Steinke (NeurIPS 2020,
Algorithm 3: a discrete Laplace proposal of scale ``⌊σ⌋+1`` built from two geometric
draws, accepted with probability ``exp(−(|y| − σ²/t)²/(2σ²))``), vectorised with NumPy as
TensorFlow Privacy does. The acceptance test uses floating point, not the exact Bernoulli
sampling of the paper; at the standard deviations used here (around 10⁵–10⁷ in the
integer domain) the resulting deviation is far below what any observer of the masked sum
could detect. The generator is seeded from the operating system for every round
(:func:`noise_rng`); it is not a cryptographic generator, and its output never leaves the
device except inside the masked sum.
"""

from __future__ import annotations

import math
import secrets

import numpy as np
import numpy.typing as npt

from edge_client.secagg.errors import SecAggError

__all__ = ["discrete_gaussian", "noise_rng"]

_MAX_BATCHES = 64


def noise_rng() -> np.random.Generator:
    """Return a generator seeded with 128 bits from the operating system."""
    return np.random.default_rng(secrets.randbits(128))


def discrete_gaussian(rng: np.random.Generator, sigma: float, size: int) -> npt.NDArray[np.int64]:
    """Return ``size`` independent draws of the discrete Gaussian ``N_Z(0, σ²)``.

    Parameters
    ----------
    rng
        The random source (:func:`noise_rng`).
    sigma
        Standard deviation, positive and finite.
    size
        Number of draws.

    Returns
    -------
    numpy.ndarray
        int64 draws.

    Raises
    ------
    SecAggError
        When ``sigma`` is not positive and finite, or the sampler does not finish.
    """
    if not (math.isfinite(sigma) and sigma > 0) or size < 0:
        raise SecAggError(f"discrete Gaussian: sigma must be positive and finite, got {sigma}")
    out = np.empty(size, dtype=np.int64)
    filled = 0
    t = math.floor(sigma) + 1
    success = -math.expm1(-1.0 / t)  # geometric parameter of the discrete Laplace(t)
    for _ in range(_MAX_BATCHES):
        if filled >= size:
            return out
        batch = 2 * (size - filled) + 64
        # Two geometric draws on {0, 1, ...}: their difference is discrete Laplace(t).
        proposal = rng.geometric(success, batch).astype(np.int64) - rng.geometric(
            success, batch
        ).astype(np.int64)
        distance = np.abs(proposal).astype(np.float64) - sigma**2 / t
        accept = rng.random(batch) < np.exp(-(distance**2) / (2 * sigma**2))
        taken = proposal[accept][: size - filled]
        out[filled : filled + taken.size] = taken
        filled += taken.size
    if filled < size:
        raise SecAggError("discrete Gaussian: sampler did not finish")
    return out  # pragma: no cover  # the last batch filled it exactly
