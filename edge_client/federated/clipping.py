"""Model updates on the device: the difference of two weight sets and its L2 clipping.

What leaves a device is ``clip(new - received)``: the update's global L2 norm (over every
weight tensor together) is scaled down to at most the policy's ``federated.clipping_norm``,
which bounds each person's influence on the average and is what the server's Gaussian
noise is calibrated to.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import numpy.typing as npt

from edge_client.federated.errors import UpdateError

__all__ = ["Weights", "clip_update", "update_norm", "weight_delta"]

Weights = Mapping[str, npt.NDArray[np.float32]]


def update_norm(update: Weights) -> float:
    """Return the global L2 norm of an update.

    Parameters
    ----------
    update
        Weight name to array.

    Returns
    -------
    float
        ``sqrt(sum of squares)`` over every array (``inf``/``nan`` when values are not finite).
    """
    total = 0.0
    for array in update.values():
        flat = np.asarray(array, np.float64).ravel()
        total += float(np.dot(flat, flat))
    return math.sqrt(total)


def weight_delta(new: Weights, old: Weights) -> dict[str, npt.NDArray[np.float32]]:
    """Return ``new - old`` per weight.

    Parameters
    ----------
    new
        Weights after local training.
    old
        Weights received from the server.

    Returns
    -------
    dict[str, numpy.ndarray]
        The update, float32, same names and shapes.

    Raises
    ------
    UpdateError
        When the names or shapes differ, or a value is not finite.
    """
    if set(new) != set(old):
        raise UpdateError(f"update: weight names differ ({sorted(new)} vs {sorted(old)})")
    delta: dict[str, npt.NDArray[np.float32]] = {}
    for name in sorted(new):
        a, b = np.asarray(new[name], np.float32), np.asarray(old[name], np.float32)
        if a.shape != b.shape:
            raise UpdateError(f"update: weight {name!r} has shape {a.shape}, expected {b.shape}")
        diff = np.asarray(a - b, np.float32)  # an ndarray even for 0-d weights
        if not np.all(np.isfinite(diff)):
            raise UpdateError(f"update: weight {name!r} has non-finite values")
        delta[name] = diff
    return delta


def clip_update(
    update: Weights, *, max_norm: float
) -> tuple[dict[str, npt.NDArray[np.float32]], float]:
    """Scale ``update`` so its global L2 norm is at most ``max_norm``.

    Parameters
    ----------
    update
        Weight name to array.
    max_norm
        The clipping norm, positive and finite.

    Returns
    -------
    tuple[dict[str, numpy.ndarray], float]
        The clipped update (float32) and the norm before clipping.

    Raises
    ------
    UpdateError
        When ``max_norm`` is not positive and finite, or the update is not finite.
    """
    if not (math.isfinite(max_norm) and max_norm > 0):
        raise UpdateError(f"clipping: max_norm must be positive and finite, got {max_norm}")
    norm = update_norm(update)
    if not math.isfinite(norm):
        raise UpdateError("clipping: update has non-finite values")
    # A tiny margin below max_norm keeps float32 rounding from pushing the norm above it.
    scale = min(1.0, max_norm * (1.0 - 1e-6) / norm) if norm > 0 else 1.0
    clipped = {
        name: np.asarray(np.asarray(a, np.float32) * scale, np.float32)  # 0-d stays an ndarray
        for name, a in update.items()
    }
    return clipped, norm
