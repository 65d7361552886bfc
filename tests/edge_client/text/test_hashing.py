"""Tests of hashed n-grams."""

from __future__ import annotations

import zlib

import numpy as np
import pytest

from edge_client.text.hashing import (
    count_bigrams,
    count_unigrams,
    hash_bigram,
    hash_token,
    sparse_batch,
    sparse_input,
)


def test_token_hash_is_stable_crc32() -> None:
    """Token hashes are CRC-32 of UTF-8, the same in every process."""
    assert hash_token("hello") == zlib.crc32(b"hello") == 907060870
    assert hash_token("caf\u00e9") == zlib.crc32("caf\u00e9".encode())


def test_bigram_hash_is_order_sensitive() -> None:
    """'a b' and 'b a' hash differently."""
    a, b = hash_token("a"), hash_token("b")
    assert hash_bigram(a, b) != hash_bigram(b, a)
    assert 0 <= hash_bigram(a, b) < 2**32


def test_count_ngrams_respects_sentence_breaks() -> None:
    """No bigram spans a separator; counts add up."""
    sep = 1 << 32
    a, b = hash_token("a"), hash_token("b")
    seq = np.array([a, b, sep, b, a, b], np.uint64)
    uni, bi = count_unigrams(seq, sep), count_bigrams(seq, sep)
    assert uni == {a: 2.0, b: 3.0}
    assert bi == {hash_bigram(a, b): 2.0, hash_bigram(b, a): 1.0}


def test_sparse_input_folds_and_sums_collisions() -> None:
    """Colliding hashes are summed before log1p, indices are sorted and in range."""
    idx, val = sparse_input([{1: 1.0, 17: 2.0, 5: 1.0}], 16)
    assert idx.tolist() == [1, 5]
    assert np.allclose(val, np.log1p([3.0, 1.0]))


def test_sparse_input_rejects_non_power_of_two() -> None:
    """The hash dimension must be a power of two."""
    with pytest.raises(ValueError, match="power of two"):
        sparse_input([{1: 1.0}], 12)


def test_sparse_batch_pads_with_zero_values() -> None:
    """Padding uses value 0 so it contributes nothing; empty rows stay valid."""
    idx, val = sparse_batch(
        [
            (np.array([3], np.int32), np.array([1.0], np.float32)),
            (np.zeros(0, np.int32), np.zeros(0, np.float32)),
        ]
    )
    assert idx.shape == val.shape == (2, 64)
    assert val[1, 0] == 0.0
