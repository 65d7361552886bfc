"""Tests of running counts, dense features and the CDI."""

from __future__ import annotations

import numpy as np
import pytest

from edge_client.text.features import (
    DENSE_FEATURE_NAMES,
    TextCounts,
    cdi,
    dense_features,
    extract,
    token_names,
)
from edge_client.text.hashing import hash_token

POSTS = [
    "I really don't think we should go. It's too far!",
    "The report compares the cost of the two engines in detail.",
    "Honestly? I love this song so much \U0001f60d",
    "Check https://example.com for the schedule of the meeting.",
]


def test_many_short_texts_equal_one_long_text() -> None:
    """Counts are additive: posts observed one by one equal the same posts as one text."""
    acc = TextCounts()
    for post in POSTS:
        acc.add(extract(post, bigrams=True))
    whole = extract("\n".join(POSTS), bigrams=True)
    assert whole.bigrams
    assert acc.words == whole.words and acc.sentences == whole.sentences
    assert acc.unigrams == whole.unigrams and acc.bigrams == whole.bigrams
    assert np.allclose(dense_features(acc), dense_features(whole))


def test_empty_text_has_no_counts() -> None:
    """Empty text gives zero counts and the neutral CDI of 30."""
    c = extract("")
    assert c.words == 0 and not c.unigrams
    assert cdi(c) == 30.0
    assert dense_features(c)[:-1].sum() == 0


def test_category_percentages() -> None:
    """Articles, negations and pronouns are counted as percent of words."""
    c = extract("The cat is not a dog")
    feats = dict(zip(DENSE_FEATURE_NAMES, dense_features(c).tolist(), strict=True))
    assert feats["pct_article"] == pytest.approx(2 / 6 * 100)
    assert feats["pct_negate"] == pytest.approx(1 / 6 * 100)


def test_cdi_formula() -> None:
    """CDI = 30 + article + prep - ppron - ipron - auxverb - conj - adverb - negate."""
    c = extract("the report of the committee")  # article 2, prep 1 of 5 words
    assert cdi(c) == pytest.approx(30 + 40 + 20)
    assert cdi(extract("i really do not know")) < 30


def test_stylometrics() -> None:
    """Exclamations, questions and emoji are counted per 100 words."""
    c = extract("Wow! Really? Yes \U0001f600")
    feats = dict(zip(DENSE_FEATURE_NAMES, dense_features(c).tolist(), strict=True))
    assert c.exclamations == 1 and c.questions == 1 and c.emoji == 1
    assert feats["exclamations"] == pytest.approx(100 / 3)


def test_decay_scales_and_prunes() -> None:
    """Decay multiplies counts and drops negligible hashed counts."""
    c = extract("alpha beta gamma")
    c.scale(0.5)
    assert c.words == 1.5
    c.scale(0.001)
    assert not c.unigrams
    with pytest.raises(ValueError, match="decay factor"):
        c.scale(1.5)


def test_token_names_name_seen_words_only() -> None:
    """Hashes of words seen in this process are named; unknown hashes are not."""
    extract("zebrafish migrate")
    names = token_names([hash_token("zebrafish"), 12345])
    assert names == {hash_token("zebrafish"): "zebrafish"}
