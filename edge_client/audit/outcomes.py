"""One device's outcome counts for an audit window, and its bounded contribution vector.

:data:`COUNT_SHAPE` counts impressions (``shown``), engagements and dismissals by variant,
sponsored or not, and exposure bin. :func:`contributions` turns the counts of one or many
devices into the rows the layout (:mod:`edge_client.audit.layout`) describes, each part divided by
the device's impressions, weighted, and each block clipped to L2 norm 1: whatever is
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
    PART_WEIGHTS,
    VARIANTS,
    Arm,
    Layout,
    Part,
    Question,
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


def _clip_l2(block: Array) -> Array:
    """Scale each device's block (first axis) down to L2 norm at most 1."""
    flat = block.reshape(block.shape[0], -1)
    norm = np.linalg.norm(flat, axis=1, keepdims=True)
    return np.where(norm > 1.0, flat / np.maximum(norm, 1e-300), flat)


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
        ``[devices, *COUNT_SHAPE]`` counts of the window (anything not finite or negative
        counts as 0).
    arms : array_like
        ``[devices]`` index into :data:`~edge_client.audit.layout.ARMS`.
    buckets : array_like
        ``[devices]`` index into :data:`~edge_client.audit.layout.BUCKETS`.
    layout : Layout
        The questions asked.

    Returns
    -------
    numpy.ndarray
        ``[devices, layout.size]``; all zeros for a device without impressions. Each block
        is clipped to L2 norm 1, so a row never exceeds ``layout.sensitivity``.
    """
    c = np.nan_to_num(np.asarray(counts, np.float64), nan=0.0, posinf=0.0, neginf=0.0)
    c = np.clip(c.reshape(-1, *COUNT_SHAPE), 0.0, 1e12)
    n = c.shape[0]
    arm = np.asarray(arms, np.intp).reshape(n)
    bucket = np.asarray(buckets, np.intp).reshape(n)
    shown, engaged, dismissed = c[..., 0], c[..., 1], c[..., 2]
    total = shown.sum(axis=(1, 2, 3))
    scale = np.where(total > 0, 1.0 / np.maximum(total, 1.0), 0.0)
    device = (total > 0).astype(np.float64)
    per_variant = {
        Part.SHOWN: shown.sum(axis=(2, 3)),
        Part.ENGAGED: engaged.sum(axis=(2, 3)),
        Part.DISMISSED: dismissed.sum(axis=(2, 3)),
    }
    per_bin = {Part.SHOWN: shown.sum(axis=(1, 2)), Part.ENGAGED: engaged.sum(axis=(1, 2))}
    whole = {
        Part.DEVICE: device,
        Part.SPONSORED: shown[:, :, 1, :].sum(axis=(1, 2)) * scale,
        Part.ENGAGED: engaged.sum(axis=(1, 2, 3)) * scale,
    }
    rows = np.arange(n)
    out = np.zeros((n, layout.size))
    for question in layout.questions:
        block = np.zeros((n, *Layout.shape(question)))
        for j, (part, weight) in enumerate(PART_WEIGHTS[question].items()):
            if question in (Question.EXPOSURE, Question.ENGAGEMENT):
                block[rows, arm, bucket, :, j] = per_variant[part] * scale[:, None] * weight
            elif question is Question.FATIGUE:
                block[rows, arm, :, j] = per_bin[part] * scale[:, None] * weight
            elif question is Question.OFFERS:
                block[rows, arm, bucket, j] = whole[part] * weight
            else:  # Question.LIFT
                block[rows, arm, j] = whole[part] * weight
        out[:, layout.span(question)] = _clip_l2(block)
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
