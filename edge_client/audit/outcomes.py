"""One device's outcome counts for an audit window, and its bounded contribution vector.

:data:`COUNT_SHAPE` counts impressions (``shown``), engagements and dismissals by variant,
sponsored or not, and exposure bin. :func:`contributions` turns the counts of one or many
devices into the rows the layout (:mod:`edge_client.audit.layout`) describes, each block
divided by the device's impressions and clipped so it sums to at most 1: whatever is
stored, one device's row has L2 norm at most ``layout.sensitivity``. :func:`add_noise`
adds the device's share of the Gaussian noise.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from edge_client.audit.layout import (
    ARMS,
    BUCKETS,
    EXPOSURE_BINS,
    VARIANTS,
    Arm,
    Block,
    Layout,
    StyleBucket,
)

__all__ = ["COUNT_SHAPE", "OUTCOMES", "add_noise", "contributions", "exposure_bin"]

OUTCOMES: tuple[str, ...] = ("shown", "engaged", "dismissed")
"""What is counted per cell."""

COUNT_SHAPE: tuple[int, int, int, int] = (len(VARIANTS), 2, EXPOSURE_BINS, len(OUTCOMES))
"""Counts per device: variant × sponsored (no, yes) × exposure bin × outcome."""

Array = npt.NDArray[np.float64]


def exposure_bin(times_shown_before: int) -> int:
    """Return the exposure bin (0-based) of an impression after ``times_shown_before`` ones."""
    return min(max(times_shown_before, 0), EXPOSURE_BINS - 1)


def _clip_rows(block: Array) -> Array:
    """Scale each device's block down so its cells sum to at most 1 (cells are >= 0)."""
    flat = np.clip(block.reshape(block.shape[0], -1), 0.0, None)
    total = flat.sum(axis=1, keepdims=True)
    flat = np.where(total > 1.0, flat / np.maximum(total, 1e-12), flat)
    return flat


def contributions(
    counts: npt.ArrayLike,
    arms: npt.ArrayLike,
    buckets: npt.ArrayLike,
    layout: Layout,
) -> Array:
    """Return the contribution rows of devices with ``counts`` in ``arms`` and ``buckets``.

    Parameters
    ----------
    counts : array_like
        ``[devices, *COUNT_SHAPE]`` non-negative counts of the window.
    arms : array_like
        ``[devices]`` index into :data:`~edge_client.audit.layout.ARMS`.
    buckets : array_like
        ``[devices]`` index into :data:`~edge_client.audit.layout.BUCKETS`.
    layout : Layout
        The blocks asked.

    Returns
    -------
    numpy.ndarray
        ``[devices, layout.size]``; all zeros for a device without impressions.
    """
    c = np.nan_to_num(np.asarray(counts, np.float64), nan=0.0, posinf=0.0, neginf=0.0)
    c = np.clip(c.reshape(-1, *COUNT_SHAPE), 0.0, None)
    n = c.shape[0]
    arm = np.asarray(arms, np.intp).reshape(n)
    bucket = np.asarray(buckets, np.intp).reshape(n)
    shown, engaged, dismissed = c[..., 0], c[..., 1], c[..., 2]
    total = shown.sum(axis=(1, 2, 3))
    scale = np.where(total > 0, 1.0 / np.maximum(total, 1.0), 0.0)[:, None]
    rows = np.arange(n)
    out = np.zeros((n, layout.size))

    def put(block: Block, values: Array, index: tuple[npt.NDArray[np.intp], ...]) -> None:
        cells = np.zeros((n, *Layout.shape(block)))
        cells[(rows, *index)] = values
        out[:, layout.span(block)] = _clip_rows(cells)

    by_variant = {
        Block.EXPOSURE: shown.sum(axis=(2, 3)),
        Block.ENGAGED: engaged.sum(axis=(2, 3)),
        Block.DISMISSED: dismissed.sum(axis=(2, 3)),
    }
    by_bin = {
        Block.FATIGUE_SHOWN: shown.sum(axis=(1, 2)),
        Block.FATIGUE_ENGAGED: engaged.sum(axis=(1, 2)),
    }
    for block in layout.blocks:
        if block in by_variant:
            put(block, by_variant[block] * scale, (arm, bucket))
        elif block in by_bin:
            put(block, by_bin[block] * scale, (arm,))
        elif block is Block.SPONSORED:
            put(block, shown[:, :, 1, :].sum(axis=(1, 2)) * scale[:, 0], (arm, bucket))
        elif block is Block.DEVICES:
            put(block, (total > 0).astype(np.float64), (arm,))
        else:  # Block.ARM_ENGAGED
            put(block, engaged.sum(axis=(1, 2, 3)) * scale[:, 0], (arm,))
    return out


def arm_index(arm: Arm) -> int:
    """Return the index of ``arm`` in :data:`ARMS`."""
    return ARMS.index(arm)


def bucket_index(bucket: StyleBucket) -> int:
    """Return the index of ``bucket`` in :data:`BUCKETS`."""
    return BUCKETS.index(bucket)


def add_noise(rows: Array, *, sigma: float, rng: np.random.Generator) -> Array:
    """Return ``rows`` plus independent Gaussian noise of standard deviation ``sigma``."""
    return rows + rng.normal(0.0, sigma, size=rows.shape)
