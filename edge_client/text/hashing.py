"""Hashed word n-grams: a fixed-dimension bag of words with no vocabulary file on the device.

Every token is hashed with CRC-32 of its UTF-8 bytes (stable across processes, platforms
and Python versions, unlike :func:`hash`); a bigram hashes the two tokens joined by one
space. The 32-bit hashes are kept as running counts; each model folds them into its own
dimension (a power of two) with :func:`sparse_input`, which is also what the training
script uses, so the device and the build compute identical inputs.
"""

from __future__ import annotations

import sys
import zlib
from collections.abc import Iterable, Mapping
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

__all__ = [
    "HashedInput",
    "PaddedRow",
    "count_bigrams",
    "count_hashes",
    "count_unigrams",
    "fold_counts",
    "hash_bigram",
    "hash_token",
    "hashed_counts",
    "hashed_input",
    "prepared_input",
    "run_lengths",
    "sparse_batch",
    "sparse_input",
]

_CACHE_LIMIT = 200_000
_token_cache: dict[str, int] = {}


def hash_token(token: str) -> int:
    """Return the 32-bit hash of one normalised token.

    Parameters
    ----------
    token : str
        A token from :func:`edge_client.text.tokenizer.tokenize`.

    Returns
    -------
    int
        ``crc32(token.encode("utf-8"))``, in ``[0, 2**32)``.
    """
    cached = _token_cache.get(token)
    if cached is None:
        if len(_token_cache) >= _CACHE_LIMIT:
            _token_cache.clear()
        cached = zlib.crc32(token.encode("utf-8"))
        _token_cache[token] = cached
    return cached


_MIX = np.uint64(0x9E3779B97F4A7C15)
_SHIFT = np.uint64(32)


def hash_bigram(first_hash: int, second_hash: int) -> int:
    """Return the 32-bit hash of a bigram from its two token hashes.

    Parameters
    ----------
    first_hash, second_hash : int
        :func:`hash_token` of the two tokens, in order.

    Returns
    -------
    int
        ``(first * 0x9E3779B97F4A7C15 + second) mod 2**64 >> 32``: order-sensitive and
        computed in bulk by :func:`count_bigrams`.
    """
    return ((first_hash * 0x9E3779B97F4A7C15 + second_hash) & 0xFFFFFFFFFFFFFFFF) >> 32


def count_hashes(keys: npt.NDArray[np.uint64]) -> dict[int, float]:
    """Count equal values of an array of hashes.

    Parameters
    ----------
    keys : numpy.ndarray of uint64
        Hashes, in any order; the array is sorted in place.

    Returns
    -------
    dict of int to float
        How often each distinct hash occurs, keyed in increasing order.
    """
    distinct, counts = run_lengths(keys)
    return dict(zip(distinct.tolist(), counts.tolist(), strict=True))


def run_lengths(
    keys: npt.NDArray[np.uint64],
) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.float64]]:
    """Sort ``keys`` in place and return each distinct value with how often it occurs.

    Parameters
    ----------
    keys : numpy.ndarray of uint64
        Hashes, in any order.

    Returns
    -------
    distinct : numpy.ndarray of uint64
        The distinct values, increasing.
    counts : numpy.ndarray of float64
        How often each occurs.
    """
    n = len(keys)
    if n == 0:
        return keys[:0], np.zeros(0, np.float64)
    keys.sort()
    # Edges of the runs of equal sorted keys; each run's length is its count.
    edges = np.empty(n + 1, bool)
    edges[0] = edges[n] = True
    np.not_equal(keys[1:], keys[:-1], out=edges[1:n])
    at = np.flatnonzero(edges)
    return keys[at[:-1]], (at[1:] - at[:-1]).astype(np.float64)


def _counts(keys: npt.NDArray[np.uint64]) -> dict[int, float]:
    return count_hashes(np.array(keys, np.uint64))


def count_unigrams(sequence: npt.NDArray[np.uint64], separator: int) -> dict[int, float]:
    """Count the token hashes of a sequence, skipping separators.

    Parameters
    ----------
    sequence : numpy.ndarray of uint64
        Token hashes in text order, with ``separator`` where nothing is counted.
    separator : int
        A value outside the 32-bit hash range.

    Returns
    -------
    dict of int to float
        Counts keyed by 32-bit hash.
    """
    return _counts(sequence[sequence != np.uint64(separator)])


def count_bigrams(sequence: npt.NDArray[np.uint64], separator: int) -> dict[int, float]:
    """Count the bigram hashes (:func:`hash_bigram`) of adjacent tokens.

    Parameters
    ----------
    sequence : numpy.ndarray of uint64
        Token hashes in text order, with ``separator`` between sentences.
    separator : int
        A value outside the 32-bit hash range; no bigram spans it.

    Returns
    -------
    dict of int to float
        Counts keyed by 32-bit bigram hash.
    """
    keep = sequence != np.uint64(separator)
    pair = keep[:-1] & keep[1:]
    return _counts((sequence[:-1][pair] * _MIX + sequence[1:][pair]) >> _SHIFT)


def hashed_counts(
    bags: Iterable[Mapping[int, float]],
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """Hashed counts as two arrays, ready to be folded for any model.

    Parameters
    ----------
    bags : iterable of mapping of int to float
        Running counts keyed by 32-bit hash (e.g. unigrams and bigrams).

    Returns
    -------
    keys : numpy.ndarray of int64
        Every bag's keys, in bag order.
    counts : numpy.ndarray of float64
        Their counts.
    """
    bags = list(bags)
    if len(bags) == 1:  # the shipped models read unigrams only
        bag = bags[0]
        n = len(bag)
        return np.fromiter(bag.keys(), np.int64, n), np.fromiter(bag.values(), np.float64, n)
    size = sum(len(bag) for bag in bags)
    keys = np.empty(size, np.int64)
    counts = np.empty(size, np.float64)
    at = 0
    for bag in bags:
        n = len(bag)
        keys[at : at + n] = np.fromiter(bag.keys(), np.int64, n)
        counts[at : at + n] = np.fromiter(bag.values(), np.float64, n)
        at += n
    return keys, counts


def fold_counts(
    keys: npt.NDArray[np.int64], counts: npt.NDArray[np.float64], dim: int
) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.float32]]:
    """Fold :func:`hashed_counts` into ``dim`` buckets and apply sublinear term frequency.

    Two models that read the same counts fold the same arrays, each into its own
    dimension, so the dictionaries are converted once per profile.

    Parameters
    ----------
    keys, counts : numpy.ndarray
        Output of :func:`hashed_counts`.
    dim : int
        The model's hash dimension, a power of two.

    Returns
    -------
    indices : numpy.ndarray of int32
        Distinct bucket indices, sorted.
    values : numpy.ndarray of float32
        ``log1p(count)`` of each bucket (counts of colliding hashes are summed first).
    """
    if dim <= 0 or dim & (dim - 1):
        raise ValueError(f"dim must be a positive power of two, got {dim}")
    if len(keys) == 0:
        return np.zeros(0, np.int32), np.zeros(0, np.float32)
    folded = keys & (dim - 1)
    # Sum the counts of colliding buckets: sort, mark run starts, reduce per run. Without
    # a collision (most texts) every run is one count and the reduction is the identity.
    order = np.argsort(folded)
    ordered = folded[order]
    ordered_counts = counts[order]
    step = ordered[1:] != ordered[:-1]
    if step.all():
        return ordered.astype(np.int32), np.log1p(ordered_counts).astype(np.float32)
    first = np.flatnonzero(np.concatenate(([True], step)))
    summed = np.add.reduceat(ordered_counts, first)
    return ordered[first].astype(np.int32), np.log1p(summed).astype(np.float32)


def sparse_input(
    bags: Iterable[Mapping[int, float]], dim: int
) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.float32]]:
    """Fold hashed counts into ``dim`` buckets and apply sublinear term frequency.

    :func:`fold_counts` of :func:`hashed_counts`: the sorted distinct bucket indices
    (int32) and ``log1p`` of each bucket's summed count (float32).

    Raises
    ------
    ValueError
        If ``dim`` is not a positive power of two.
    """
    return fold_counts(*hashed_counts(bags), dim)


def sparse_batch(
    rows: list[tuple[npt.NDArray[np.int32], npt.NDArray[np.float32]]],
) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.float32]]:
    """Pad sparse rows into the ``[batch, width]`` arrays the models take.

    Parameters
    ----------
    rows : list of (indices, values)
        Outputs of :func:`sparse_input`.

    Returns
    -------
    indices, values : numpy.ndarray
        Padded with index 0 and value 0 (a zero value contributes nothing). The width is
        a power of two, at least 64.
    """
    longest = max((len(r[0]) for r in rows), default=1)
    # Round the width up to a power of two (at least 64) so that successive calls reuse
    # the interpreter's tensor shapes instead of re-allocating them.
    width = max(64, 1 << max(0, longest - 1).bit_length())
    idx = np.zeros((len(rows), width), np.int32)
    val = np.zeros((len(rows), width), np.float32)
    for i, (ri, rv) in enumerate(rows):
        idx[i, : len(ri)] = ri
        val[i, : len(rv)] = rv
    return idx, val


class HashedInput(NamedTuple):
    """Hashed counts converted once per profile, for every model that reads them.

    Attributes
    ----------
    keys : numpy.ndarray of int64
        Every bag's keys, in bag order (as :func:`hashed_counts` returns them).
    counts : numpy.ndarray of float64
        Their counts.
    values : numpy.ndarray of float32
        ``log1p(counts)`` as float32: a model's input value of a bucket that no other key
        folds into.
    tagged : numpy.ndarray of int64
        ``keys << 32 | position``: masking the high half with a model's dimension and
        sorting gives its buckets in order, each with the position it came from.
    """

    keys: npt.NDArray[np.int64]
    counts: npt.NDArray[np.float64]
    values: npt.NDArray[np.float32]
    tagged: npt.NDArray[np.int64]


def hashed_input(bags: Iterable[Mapping[int, float]]) -> HashedInput:
    """:func:`hashed_counts` of ``bags`` with the sublinear term frequency already applied.

    Parameters
    ----------
    bags : iterable of mapping of int to float
        Running counts keyed by hash (e.g. unigrams and bigrams).

    Returns
    -------
    HashedInput
        Keys, counts, ``log1p`` of the counts and the tagged keys, ready for
        :meth:`PaddedRow.fill` of any model.
    """
    return prepared_input(*hashed_counts(bags))


def prepared_input(keys: npt.NDArray[np.int64], counts: npt.NDArray[np.float64]) -> HashedInput:
    """:class:`HashedInput` of keys and counts already in array form (see :func:`hashed_input`).

    Parameters
    ----------
    keys : numpy.ndarray of int64
        32-bit hashes (as :func:`hashed_counts` gives them, in the bags' order).
    counts : numpy.ndarray of float64
        Their counts.

    Returns
    -------
    HashedInput
        The same as :func:`hashed_input` of the bags these arrays hold, in the same order.
    """
    tagged = np.left_shift(keys, 32)
    tagged |= np.arange(len(keys), dtype=np.int64)
    return HashedInput(keys, counts, np.log1p(counts).astype(np.float32), tagged)


# A tagged key masked to a bucket holds the bucket in its high half and its position in
# the low half, so one in-place sort of integers orders the buckets and says where each
# came from. The halves are read through an int32 view, which needs little-endian memory,
# and must fit a non-negative int32.
_HALVES = sys.byteorder == "little"
_MAX_HALF = 2**31


class PaddedRow:
    """One model's input row, folded from :class:`HashedInput` into arrays it reuses.

    :meth:`fill` returns what ``sparse_batch([fold_counts(keys, counts, dim)])`` returns,
    bit for bit, but writes it into the arrays of the previous call of the same width and
    orders the buckets with one sort of tagged integers instead of an argsort. A profile
    runs each model once per text, so this removes most of the small array operations of
    folding and padding.

    Parameters
    ----------
    dim : int
        The model's hash dimension, a power of two.

    Raises
    ------
    ValueError
        If ``dim`` is not a positive power of two.
    """

    __slots__ = ("_dim", "_mask", "_rows", "_sorted")

    def __init__(self, dim: int) -> None:
        if dim <= 0 or dim & (dim - 1):
            raise ValueError(f"dim must be a positive power of two, got {dim}")
        self._dim = dim
        # Keeps the bucket bits of the high half and the whole low half (the position).
        self._mask = ((dim - 1) << 32) | 0xFFFFFFFF if dim <= _MAX_HALF and _HALVES else 0
        self._sorted = np.empty(0, np.int64)
        # Per width: the row's indices and values, and how many entries were written last.
        self._rows: dict[int, tuple[npt.NDArray[np.int32], npt.NDArray[np.float32], list[int]]] = {}

    def fill(self, prepared: HashedInput) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.float32]]:
        """Fold ``prepared`` into this model's padded ``[1, width]`` input.

        Parameters
        ----------
        prepared : HashedInput
            :func:`hashed_input` of the bags the model reads.

        Returns
        -------
        indices, values : numpy.ndarray
            Equal to ``sparse_batch([fold_counts(prepared.keys, prepared.counts, dim)])``.
            Both arrays are overwritten by the next call: hand them to the model at once.
        """
        n = len(prepared.keys)
        if n < 2 or not self._mask or n > _MAX_HALF:
            return self._row(*fold_counts(prepared.keys, prepared.counts, self._dim))
        if len(self._sorted) < n:
            self._sorted = np.empty(max(n, 2 * len(self._sorted)), np.int64)
        tagged = np.bitwise_and(prepared.tagged, self._mask, out=self._sorted[:n])
        tagged.sort()
        halves = tagged.view(np.int32)
        positions, buckets = halves[0::2], halves[1::2]
        step = buckets[1:] != buckets[:-1]
        distinct = np.count_nonzero(step) + 1
        if distinct == n:  # no collision (the common case): each key is its own bucket
            return self._row(buckets, prepared.values.take(positions))
        # Colliding keys: sum their counts, then log1p, as fold_counts does. A bucket's
        # counts are summed in the order of fold_counts' argsort; two counts add the same
        # either way, so only a bucket of three or more keys is handed to fold_counts.
        first = np.flatnonzero(np.concatenate(([True], step)))
        if n - distinct > 1 and np.diff(first, append=n).max() > 2:
            return self._row(*fold_counts(prepared.keys, prepared.counts, self._dim))
        summed = np.add.reduceat(prepared.counts.take(positions), first)
        return self._row(buckets.take(first), np.log1p(summed).astype(np.float32))

    def _row(
        self, buckets: npt.NDArray[np.int32], values: npt.NDArray[np.float32]
    ) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.float32]]:
        """Write sorted distinct ``buckets`` and their ``values`` into the padded row."""
        n = len(buckets)
        width = max(64, 1 << max(0, n - 1).bit_length())  # as sparse_batch pads
        row = self._rows.get(width)
        if row is None:
            row = (np.zeros((1, width), np.int32), np.zeros((1, width), np.float32), [0])
            self._rows[width] = row
        idx, val, filled = row
        idx[0, :n] = buckets
        val[0, :n] = values
        if filled[0] > n:  # clear what the previous, longer row left
            idx[0, n : filled[0]] = 0
            val[0, n : filled[0]] = 0.0
        filled[0] = n
        return idx, val
