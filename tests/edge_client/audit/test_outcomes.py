import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from edge_client.audit import (
    COUNT_SHAPE,
    PART_WEIGHTS,
    Layout,
    Question,
    add_noise,
    contributions,
    layout_for,
)
from edge_client.audit.outcomes import exposure_bin

FULL = layout_for(list(Question))


def test_layout_blocks_and_sensitivity() -> None:
    """Each question is one block; sensitivity is the root of the question count."""
    assert FULL.size == 104 and FULL.sensitivity == np.sqrt(5)
    only = layout_for([Question.OFFERS, Question.OFFERS])
    assert only.questions == (Question.OFFERS,) and only.size == 12
    for question, weights in PART_WEIGHTS.items():
        assert sum(w * w for w in weights.values()) == pytest.approx(1.0), question


def test_one_device_row_holds_its_weighted_shares() -> None:
    """Three analytical impressions (one engaged) and one generic: shares of four."""
    counts = np.zeros(COUNT_SHAPE)
    counts[0, 1, 0] = (3, 1, 0)  # analytical variant, sponsored, first exposure
    counts[2, 0, 1] = (1, 0, 1)  # generic, not sponsored, second exposure, dismissed
    row = contributions(counts[None], [0], [0], FULL)[0]

    def block(q: Question) -> np.ndarray:
        cells: np.ndarray = row[FULL.span(q)].reshape(Layout.shape(q))
        return cells

    assert block(Question.EXPOSURE)[0, 0, :, 0].tolist() == [0.75, 0.0, 0.25]
    assert block(Question.OFFERS)[0, 0].tolist() == pytest.approx([0.6, 0.8 * 0.75])
    engagement = block(Question.ENGAGEMENT)[0, 0]
    assert engagement[0].tolist() == pytest.approx([0.3 * 0.75, 0.8 * 0.25, 0.0])
    assert engagement[2, 2] == pytest.approx(np.sqrt(0.27) * 0.25)
    assert block(Question.FATIGUE)[0, :, 0].tolist() == pytest.approx([0.225, 0.075, 0, 0])
    assert block(Question.LIFT)[0].tolist() == pytest.approx([0.3, np.sqrt(0.91) * 0.25])
    assert block(Question.LIFT)[1].tolist() == [0.0, 0.0]


def test_device_without_impressions_contributes_nothing() -> None:
    """No impression in the window: an all-zero row (it is not counted as a device)."""
    assert not contributions(np.zeros((1, *COUNT_SHAPE)), [1], [2], FULL).any()


@settings(max_examples=60, deadline=None)
@given(
    arrays(np.float64, (3, *COUNT_SHAPE), elements=st.floats(allow_nan=True, allow_infinity=True))
)
def test_any_stored_counts_stay_within_the_sensitivity(counts: np.ndarray) -> None:
    """Whatever the counts (negative, NaN, engaged > shown), each block sums to <= 1."""
    rows = contributions(counts, [0, 1, 0], [0, 1, 2], FULL)
    assert np.all(np.isfinite(rows)) and np.all(rows >= 0)
    for question in FULL.questions:
        assert np.all(np.linalg.norm(rows[:, FULL.span(question)], axis=1) <= 1.0 + 1e-9)
    assert np.all(np.linalg.norm(rows, axis=1) <= FULL.sensitivity + 1e-9)


def test_exposure_bins_and_noise() -> None:
    """Exposure counts map to 4 bins; noise has the asked standard deviation."""
    assert [exposure_bin(k) for k in (0, 1, 2, 3, 9)] == [0, 1, 2, 3, 3]
    noisy = add_noise(np.zeros((2000, 10)), sigma=2.0, rng=np.random.default_rng(0))
    assert abs(noisy.std() - 2.0) < 0.05
