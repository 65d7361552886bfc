"""The featurizer's token table: what each distinct token counts for, in NumPy columns.

:func:`edge_client.text.features.extract` looks every token of a text up here at once (one
C-level ``map`` over the token list) and gets row numbers; everything a token counts for —
its CRC-32 hash, its kind, its letters and its word categories — is then read for the
whole text by NumPy indexing, with no per-token Python work. A token's row is computed
once, the first time the process sees it, and only in memory: the table holds the token
strings, like any cache of the text the device is reading, and is never stored or sent.
"""

from __future__ import annotations

import threading
import zlib
from collections.abc import Iterator
from itertools import compress, repeat
from operator import itemgetter, mul

import numpy as np
import numpy.typing as npt

from edge_client.text.lexicon import CATEGORY_NAMES, Lexicon
from edge_client.text.tokenizer import TokenKind, kind_of

__all__ = [
    "BREAK",
    "EMOJI",
    "END",
    "EXCLAMATION",
    "FOREIGN",
    "KINDS",
    "OTHER",
    "QUESTION",
    "WORD",
    "Vocabulary",
    "is_latin",
]

# Kind codes of the table's ``kinds`` column; every code >= END ends a sentence.
WORD, FOREIGN, EMOJI, OTHER, END, EXCLAMATION, QUESTION = range(7)
KINDS = 7
"""Number of kind codes."""
BREAK = 1 << 32
"""The hash of sentence-end tokens: outside the 32-bit range, so never counted."""

_HASH_EXCLAMATION = zlib.crc32(b"!")
_HASH_QUESTION = zlib.crc32(b"?")
_INITIAL_ROWS = 4096


class Vocabulary:
    """Distinct tokens and, per token, its hash, kind code, letters and category hits.

    Parameters
    ----------
    lexicon : Lexicon
        The word categories the ``categories`` column is computed with.

    Attributes
    ----------
    lexicon : Lexicon
        As given.
    hashes : numpy.ndarray of uint64
        CRC-32 of each token's UTF-8 bytes (:data:`BREAK` for sentence ends).
    kinds : numpy.ndarray of int8
        Kind code of each token (:data:`WORD` ... :data:`QUESTION`).
    letters : numpy.ndarray of int64
        Characters of word tokens (0 for every other kind).
    categories : numpy.ndarray of uint8
        ``[rows, len(CATEGORY_NAMES)]``: 1 where the token is in the category.
    """

    __slots__ = ("_lock", "_rows", "_size", "categories", "hashes", "kinds", "letters", "lexicon")

    def __init__(self, lexicon: Lexicon) -> None:
        self.lexicon = lexicon
        self._rows: dict[str, int] = {}
        self._size = 0
        self._lock = threading.Lock()  # appending rows is several steps; threads take turns
        self.hashes = np.zeros(_INITIAL_ROWS, np.uint64)
        self.kinds = np.zeros(_INITIAL_ROWS, np.int8)
        self.letters = np.zeros(_INITIAL_ROWS, np.int64)
        self.categories = np.zeros((_INITIAL_ROWS, len(CATEGORY_NAMES)), np.uint8)

    def __len__(self) -> int:
        """Number of distinct tokens in the table."""
        return self._size

    def rows(self, tokens: list[str]) -> npt.NDArray[np.intp]:
        """Row numbers of ``tokens`` (in order), adding the tokens not seen before.

        Parameters
        ----------
        tokens : list of str
            Token strings from :func:`edge_client.text.tokenizer.scan_normalised`.

        Returns
        -------
        numpy.ndarray of intp
            One row per token.
        """
        # A list first: np.array converts a list of ints faster than np.fromiter a map.
        found = np.array(list(map(self._rows.get, tokens, repeat(-1))), np.intp)
        if len(found) and found.min() < 0:
            with self._lock:
                self._add_missing(tokens, found)
        return found

    def _add_missing(self, tokens: list[str], found: npt.NDArray[np.intp]) -> None:
        """Describe the tokens not in the table, append them in bulk and fill their rows.

        A token's kind follows from its first character (:func:`kind_of`), so kinds come
        from a per-character table; hashes, lengths and lexicon hits are computed for all
        new tokens at once, by C-level maps over the few new tokens of a text (a NumPy
        operation per column costs more than the map for tens of tokens).
        """
        missing = (found < 0).nonzero()[0].tolist()
        table = self._rows
        # Tokens another thread added meanwhile are not added twice.
        new = [t for t in dict.fromkeys(map(tokens.__getitem__, missing)) if t not in table]
        start = self._size
        stop = start + len(new)
        self._reserve(stop)
        firsts = list(map(_FIRST.__getitem__, map(itemgetter(0), new)))
        hashes = list(map(zlib.crc32, map(str.encode, new)))
        if max(firsts, default=0) >= _C_EXCLAMATION:  # a new "!", "?" or sentence-end run
            hashes = list(map(_fixed_hash, firsts, hashes))
        self.hashes[start:stop] = hashes
        self.kinds[start:stop] = list(map(_KIND_OF_CLASS_LIST.__getitem__, firsts))
        self.letters[start:stop] = list(map(mul, map(len, new), map(_LETTERED.__getitem__, firsts)))
        looked = list(compress(range(len(new)), map(_LOOKED_UP.__getitem__, firsts)))
        if looked:
            hits = self.lexicon.lookup_many(list(map(new.__getitem__, looked)))
            width = self.categories.shape[1]
            cells = [
                (start + i) * width + c for i, cats in zip(looked, hits, strict=True) for c in cats
            ]
            if cells:  # one assignment by flat (row-major) index
                self.categories.put(cells, 1)
        table.update(zip(new, range(start, stop), strict=True))
        self._size = stop
        found[missing] = list(map(table.__getitem__, map(tokens.__getitem__, missing)))

    def _reserve(self, size: int) -> None:
        """Grow the columns (doubling) so they hold at least ``size`` rows."""
        capacity = len(self.kinds)
        if size <= capacity:
            return
        while capacity < size:
            capacity *= 2
        grow = capacity - len(self.kinds)
        self.hashes = np.concatenate([self.hashes, np.zeros(grow, np.uint64)])
        self.kinds = np.concatenate([self.kinds, np.zeros(grow, np.int8)])
        self.letters = np.concatenate([self.letters, np.zeros(grow, np.int64)])
        self.categories = np.concatenate(
            [self.categories, np.zeros((grow, len(CATEGORY_NAMES)), np.uint8)]
        )

    def items(self) -> Iterator[tuple[str, int, int, int]]:
        """Every token with its hash, kind code and row (for naming hashes in explanations)."""
        hashes, kinds = self.hashes, self.kinds
        for token, row in self._rows.items():
            yield token, int(hashes[row]), int(kinds[row]), row


# Classes of a token's first character; the kind code of each class is _KIND_OF_CLASS_LIST.
_C_LATIN, _C_FOREIGN, _C_DIGIT, _C_PLACEHOLDER, _C_EXCLAMATION, _C_QUESTION, _C_END, _C_EMOJI = (
    range(8)
)
_KIND_OF_CLASS_LIST = [WORD, FOREIGN, WORD, OTHER, EXCLAMATION, QUESTION, END, EMOJI]
_LETTERED = [1, 1, 0, 0, 0, 0, 0, 0]
"""Per class: whether the token's characters count as letters (Latin and other words)."""
_LOOKED_UP = [True, True, True, False, False, False, False, False]
"""Per class: whether the lexicon is asked (words and numbers)."""
_FIXED_HASHES = {_C_END: BREAK, _C_EXCLAMATION: _HASH_EXCLAMATION, _C_QUESTION: _HASH_QUESTION}


def _fixed_hash(first: int, crc: int) -> int:
    """The hash of a token of class ``first``: runs of ``!``/``?`` and sentence ends share one."""
    return _FIXED_HASHES.get(first, crc)


_CLASS_OF_KIND = {
    TokenKind.NUMBER: _C_DIGIT,  # numbers count as words, without letters
    TokenKind.PLACEHOLDER: _C_PLACEHOLDER,
    TokenKind.EXCLAMATION: _C_EXCLAMATION,
    TokenKind.QUESTION: _C_QUESTION,
    TokenKind.SENTENCE_END: _C_END,
    TokenKind.EMOJI: _C_EMOJI,
}


class _FirstCharacterClasses(dict[str, int]):
    """First character -> class, computed with :func:`kind_of` the first time it is asked."""

    def __missing__(self, first: str) -> int:
        kind = kind_of(first)
        if kind is TokenKind.WORD:
            found = _C_LATIN if is_latin(first) else _C_FOREIGN
        else:
            found = _CLASS_OF_KIND[kind]
        self[first] = found
        return found


_FIRST = _FirstCharacterClasses()


def is_latin(first: str) -> bool:
    """Whether a word's first letter is in the Latin script.

    ASCII, Latin-1, Latin Extended A/B, IPA, Latin Extended Additional/C/D/E and fullwidth
    Latin count as Latin.
    """
    point = ord(first)
    return (
        point < 0x2B0
        or 0x1E00 <= point <= 0x1EFF
        or 0x2C60 <= point <= 0x2C7F
        or 0xA720 <= point <= 0xA7FF
        or 0xAB30 <= point <= 0xAB6F
        or 0xFF21 <= point <= 0xFF5A
    )
