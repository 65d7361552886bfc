"""The piece-lookup routes ``bench_lookup`` compares (shared with its tests).

Each route maps a line of pieces separated by single spaces to the pieces' numbers in a
table, as an ``intp`` array in text order.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import numpy.typing as npt

__all__ = ["ArrayLookup", "dictionary_numbers", "piece_hash", "word_level_tokenizer"]

_MASK = (1 << 64) - 1
_BASE = 0x9E3779B97F4A7C15  # odd, so invertible modulo 2**64
_SPREAD = 0xBF58476D1CE4E5B9  # multiply-shift: a hash's home slot is its top bits after it
_SPACE = 0x20


def dictionary_numbers(numbers: Mapping[str, int], line: str) -> npt.NDArray[np.intp]:
    """The shipped route: ``str.split`` and a C-level ``map`` of the dictionary's lookup."""
    pieces = line.split()
    return np.fromiter(map(numbers.__getitem__, pieces), np.intp, len(pieces))


def piece_hash(piece: bytes) -> int:
    """``sum(byte[i] * BASE**i) mod 2**64``: what :meth:`ArrayLookup.hashes` computes."""
    value, power = 0, 1
    for byte in piece:
        value = (value + byte * power) & _MASK
        power = (power * _BASE) & _MASK
    return value


class ArrayLookup:
    """Piece numbers with NumPy alone: spans, polynomial hashes and an open-addressing table.

    Parameters
    ----------
    numbers : mapping of str to int
        Every piece and its number (non-negative).
    bits : int, optional
        The table has ``2**bits`` slots (default: at least twice the pieces).

    Attributes
    ----------
    bits : int
        The table has ``2**bits`` slots.

    Raises
    ------
    ValueError
        If two pieces share a 64-bit hash, or the table is too small.
    """

    def __init__(self, numbers: Mapping[str, int], *, bits: int | None = None) -> None:
        if bits is None:
            bits = max(4, (2 * len(numbers)).bit_length())
        self.bits = bits
        size = 1 << bits
        if size <= len(numbers):
            raise ValueError(f"a table of {size} slots cannot hold {len(numbers)} pieces")
        self._shift = np.uint64(64 - bits)
        self._mask = size - 1
        self._keys = np.zeros(size, np.uint64)
        self._values = np.full(size, -1, np.intp)
        self._longest_probe = 0
        for piece, number in numbers.items():
            key = piece_hash(piece.encode("utf-8", "surrogatepass"))
            slot = ((key * _SPREAD) & _MASK) >> (64 - bits)
            probe = 0
            while self._values[slot] >= 0:
                if int(self._keys[slot]) == key:
                    raise ValueError(f"pieces {piece!r} and another share a 64-bit hash")
                slot = (slot + 1) & self._mask
                probe += 1
            self._keys[slot] = key
            self._values[slot] = number
            self._longest_probe = max(self._longest_probe, probe)
        self._powers = np.ones(1, np.uint64)
        self._inverse_powers = np.ones(1, np.uint64)
        self._is_space = np.zeros(256, np.bool_)
        self._is_space[_SPACE] = True

    @property
    def nbytes(self) -> int:
        """Bytes of the table's keys and values."""
        return int(self._keys.nbytes + self._values.nbytes)

    def hashes(self, line: str) -> npt.NDArray[np.uint64]:
        """The hash of every piece of ``line`` (pieces separated by single spaces)."""
        data = np.frombuffer(line.encode("utf-8", "surrogatepass"), np.uint8)
        size = len(data)
        if size >= len(self._powers):
            self._grow_powers(size + 1)
        edges = np.empty(size + 2, np.bool_)
        edges[0] = edges[-1] = True
        self._is_space.take(data, out=edges[1:-1])
        steps = np.diff(edges.view(np.int8))
        starts = np.flatnonzero(steps == -1)
        ends = np.flatnonzero(steps == 1)
        prefix = np.empty(size + 1, np.uint64)
        prefix[0] = 0
        np.cumsum(data * self._powers[:size], out=prefix[1:])
        # The span [s, e) is sum(byte[i] * BASE**(i - s)): the prefix difference over BASE**s.
        keys: npt.NDArray[np.uint64] = (prefix.take(ends) - prefix.take(starts)) * (
            self._inverse_powers.take(starts)
        )
        return keys

    def numbers(self, line: str) -> npt.NDArray[np.intp]:
        """The numbers of the pieces of ``line``, in order.

        Raises
        ------
        KeyError
            If a piece is not in the table.
        """
        keys = self.hashes(line)
        slots = ((keys * np.uint64(_SPREAD)) >> self._shift).astype(np.intp)
        found = self._keys.take(slots) == keys
        probe = 0
        while not found.all():
            if probe == self._longest_probe:
                raise KeyError("a piece is not in the table")
            missing = np.flatnonzero(~found)
            slots[missing] = (slots[missing] + 1) & self._mask
            found[missing] = self._keys.take(slots[missing]) == keys[missing]
            probe += 1
        values: npt.NDArray[np.intp] = self._values.take(slots)
        return values

    def _grow_powers(self, size: int) -> None:
        """Powers of BASE and of its inverse modulo 2**64 for spans up to ``size`` bytes."""
        inverse = pow(_BASE, -1, 1 << 64)
        powers, inverses = [1], [1]
        for _ in range(size - 1):
            powers.append((powers[-1] * _BASE) & _MASK)
            inverses.append((inverses[-1] * inverse) & _MASK)
        self._powers = np.array(powers, np.uint64)
        self._inverse_powers = np.array(inverses, np.uint64)


def word_level_tokenizer(
    numbers: Mapping[str, int],
) -> Callable[[str], npt.NDArray[np.intp]] | None:
    """Hugging Face ``tokenizers``' ``WordLevel`` over ``numbers``, or None if not installed."""
    try:
        from tokenizers import Tokenizer, models, pre_tokenizers
    except ImportError:
        return None
    vocabulary = dict(numbers)
    unknown = "\x00unknown"
    vocabulary[unknown] = len(vocabulary)
    tokenizer = Tokenizer(models.WordLevel(vocabulary, unk_token=unknown))
    tokenizer.pre_tokenizer = pre_tokenizers.WhitespaceSplit()

    def route(line: str) -> npt.NDArray[np.intp]:
        return np.array(tokenizer.encode(line, add_special_tokens=False).ids, np.intp)

    return route
