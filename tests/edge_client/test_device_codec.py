"""The TextCounts codec: exact round trips of numbers only, strict checks on what it reads."""

from __future__ import annotations

import math
from typing import Any

import msgpack
import numpy as np
import pytest

from edge_client.store import validate_state
from edge_client.store.codec import SectionFormatError, counts_from_dict, counts_to_dict
from edge_client.text.features import TextCounts, extract

TEXTS = (
    "I compared the specifications of both engines before buying. Was it worth it?",
    "Honestly I just loved it!!! My friends said it felt amazing 😍 and I agree.",
    "My friend wrote 你好 on the box (and a smiley: {^_^}).",
)


def _counts() -> TextCounts:
    counts = TextCounts()
    for text in TEXTS:
        counts.add(extract(text, bigrams=True))
    counts.scale(0.7)
    return counts


def _assert_equal(a: TextCounts, b: TextCounts) -> None:
    scalars = ("words", "sentences", "letters", "exclamations", "questions", "emoji")
    for name in (*scalars, "foreign_words", "symbols"):
        assert getattr(a, name) == getattr(b, name), name
    np.testing.assert_array_equal(a.categories, b.categories)
    assert a.unigrams == b.unigrams
    assert a.bigrams == b.bigrams


def _leaves(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [leaf for item in value.values() for leaf in _leaves(item)]
    if isinstance(value, list):
        return [leaf for item in value for leaf in _leaves(item)]
    return [value]


def test_counts_roundtrip_through_msgpack_exactly() -> None:
    """Encoded counts survive msgpack and decode to equal counts, bigrams included."""
    counts = _counts()
    assert counts.bigrams, "the fixture must exercise bigrams"
    encoded = counts_to_dict(counts)
    validate_state({"profile": encoded})
    packed = msgpack.packb(encoded, use_bin_type=True)
    restored = counts_from_dict(msgpack.unpackb(packed, raw=False))
    _assert_equal(restored, counts)


def test_encoding_holds_numbers_only_and_is_deterministic() -> None:
    """Every leaf is an int or float (no token text) and equal counts encode identically."""
    encoded = counts_to_dict(_counts())
    assert all(
        isinstance(leaf, int | float) and not isinstance(leaf, bool) for leaf in _leaves(encoded)
    )
    assert all(isinstance(k, int) for k in encoded["unigram_keys"])
    assert encoded["unigram_keys"] == sorted(encoded["unigram_keys"])
    shuffled = _counts()
    shuffled.unigrams = dict(reversed(list(shuffled.unigrams.items())))
    assert msgpack.packb(counts_to_dict(shuffled)) == msgpack.packb(encoded)


def test_empty_counts_roundtrip() -> None:
    """Fresh counts encode to empty lists and decode to zero counts."""
    restored = counts_from_dict(counts_to_dict(TextCounts()))
    _assert_equal(restored, TextCounts())


def test_decoded_counts_are_independent_of_the_stored_data() -> None:
    """Changing decoded counts leaves the encoded mapping untouched."""
    encoded = counts_to_dict(_counts())
    before = msgpack.packb(encoded)
    restored = counts_from_dict(encoded)
    restored.scale(0.1)
    restored.categories[0] = 99.0
    assert msgpack.packb(encoded) == before


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda d: d.update(v=2), "'v'"),
        (lambda d: d.pop("words"), "'words'"),
        (lambda d: d.update(words=-1.0), "'words'"),
        (lambda d: d.update(letters=math.nan), "'letters'"),
        (lambda d: d.update(emoji=True), "'emoji'"),
        (lambda d: d.update(categories=[0.0] * 3), "'categories'"),
        (lambda d: d["unigram_keys"].__setitem__(0, 2**32), "'unigram_keys'"),
        (lambda d: d["unigram_keys"].__setitem__(0, "word"), "'unigram_keys'"),
        (lambda d: d["unigram_counts"].pop(), "'unigram_keys' and 'unigram_counts'"),
        (lambda d: d["unigram_keys"].__setitem__(1, d["unigram_keys"][0]), "duplicate"),
        (lambda d: d.update(bigram_counts="x"), "'bigram_counts'"),
    ],
)
def test_decoder_refuses_malformed_counts(change: Any, field: str) -> None:
    """Each kind of damage raises SectionFormatError naming the field."""
    encoded = counts_to_dict(_counts())
    change(encoded)
    with pytest.raises(SectionFormatError, match=field.replace("(", r"\(")):
        counts_from_dict(encoded)


def test_decoder_refuses_a_non_mapping() -> None:
    """A list where a mapping is expected is refused with the section named."""
    with pytest.raises(SectionFormatError, match="section 'profile'"):
        counts_from_dict([1, 2, 3])


def test_encoder_refuses_counts_that_cannot_be_decoded() -> None:
    """Non-finite counts and out-of-range keys are refused before anything is stored."""
    counts = _counts()
    counts.words = math.inf
    with pytest.raises(SectionFormatError, match="'words'"):
        counts_to_dict(counts)
    counts = _counts()
    counts.unigrams[-5] = 1.0
    with pytest.raises(SectionFormatError, match="hash key"):
        counts_to_dict(counts)


def test_counts_stored_before_the_language_fields_still_load() -> None:
    """A stored profile without foreign_words/symbols (older version) loads them as 0."""
    encoded = counts_to_dict(_counts())
    assert encoded["foreign_words"] > 0 and encoded["symbols"] > 0
    del encoded["foreign_words"], encoded["symbols"]
    restored = counts_from_dict(encoded)
    assert restored.foreign_words == 0.0 and restored.symbols == 0.0
    assert restored.words == _counts().words
