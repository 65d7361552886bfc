"""The featurizer's token table: what each whitespace-separated piece of text counts for.

:func:`edge_client.text.features.extract` splits normalised text into pieces
(:func:`edge_client.text.tokenizer.pieces_of`: whitespace, after separators became spaces)
and looks every piece up here at once (one C-level ``map``): a piece has a number, and the
number leads to the rows of the tokens the token pattern finds in it (``"don't"`` to the
row of ``don't``; most pieces are one word and one row). The rows of the pieces, in order,
are the rows of the text's tokens. Everything a token counts for — its CRC-32 hash, its
kind, its letters and its word categories — is then read for the whole text by NumPy
indexing, with no per-token Python work. Sentence ends, runs of ``!`` and runs of ``?`` have
fixed rows (0, 1 and 2), so a sentence boundary is ``row < 3``.

The table starts with the shipped common words already described
(:mod:`edge_client.text.common_words`). Any other piece is split and its new tokens are
described once, the first time the process sees it, into Python lists that reach the NumPy
columns in one write per column before the text's rows are read. It lives only in memory:
the table holds pieces and tokens, like any cache of the text the device is reading, and is
never stored or sent.
"""

from __future__ import annotations

import threading
import zlib
from collections.abc import Iterator

import numpy as np
import numpy.typing as npt

from edge_client.text.common_words import CommonWords, load_common_words
from edge_client.text.lexicon import CATEGORY_NAMES, Lexicon
from edge_client.text.tokenizer import TokenKind, ascii_token_pattern, full_token_pattern, kind_of

__all__ = [
    "BREAK",
    "EMOJI",
    "END",
    "END_ROWS",
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
END_ROWS = 3
"""Rows below this end a sentence: 0 for ``.``/``…``/line-break runs, 1 for ``!`` runs and
2 for ``?`` runs (every run of a kind counts, and hashes, alike)."""

_INITIAL_ROWS = 4096
_DESCRIPTION_COLUMNS = KINDS + len(CATEGORY_NAMES)


class Vocabulary:
    """Distinct pieces and tokens and, per token, its hash, kind, letters and categories.

    Parameters
    ----------
    lexicon : Lexicon
        The word categories the table is computed with.

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
    descriptions : numpy.ndarray of int32
        Each token's description: the row of :attr:`description_table` that holds its kind
        and its categories (tokens with the same kind and categories share one).
    description_table : numpy.ndarray of float64
        ``[descriptions, KINDS + len(CATEGORY_NAMES)]``: a one-hot kind, then 1 for each
        category. A text's histogram of descriptions times this table is its kind tally
        followed by its category hits.
    """

    __slots__ = (
        "_chars",
        "_common",
        "_described",
        "_flat",
        "_flat_size",
        "_lengths",
        "_lock",
        "_piece_rows",
        "_pieces",
        "_size",
        "_staged",
        "_starts",
        "_tokens",
        "description_table",
        "descriptions",
        "hashes",
        "kinds",
        "letters",
        "lexicon",
    )

    def __init__(self, lexicon: Lexicon) -> None:
        self.lexicon = lexicon
        self._pieces = _Pieces(self)
        self._tokens: list[str] = []
        self._described: dict[tuple[int, tuple[int, ...]], int] = {}
        self._chars = 0
        self._lock = threading.Lock()  # adding a piece is several steps; threads take turns
        common = _common_words(lexicon)
        self._common = len(common.words)
        # The row of each piece numbered after the common words (-1 if not one token).
        self._piece_rows: list[int] = []
        # New pieces and tokens are described into Python lists and written to the NumPy
        # columns in one go per text (a NumPy write per value costs more than the rest).
        self._staged = _Staged()
        capacity = _INITIAL_ROWS
        while capacity < END_ROWS + self._common + _INITIAL_ROWS // 2:
            capacity *= 2
        self.hashes = np.zeros(capacity, np.uint64)
        self.kinds = np.zeros(capacity, np.int8)
        self.letters = np.zeros(capacity, np.int64)
        self.descriptions = np.zeros(capacity, np.int32)
        # Float so a histogram times the table is one BLAS call; sums of counts stay exact.
        self.description_table = np.zeros((64, _DESCRIPTION_COLUMNS), np.float64)
        # Piece number -> its tokens' rows: _flat[_starts[p] : _starts[p] + _lengths[p]].
        self._starts = np.zeros(capacity, np.intp)
        self._lengths = np.zeros(capacity, np.intp)
        self._flat = np.zeros(capacity, np.intp)
        self._flat_size = 0  # entries of _flat in use, staged ones included
        self._size = 0
        for token, kind, crc in ((".", END, BREAK), ("!", EXCLAMATION, _HASH_EXCLAMATION)):
            self._append(token, kind, crc, 0, ())
        self._append("?", QUESTION, _HASH_QUESTION, 0, ())
        self._write_staged()
        self._preload(common)

    def __len__(self) -> int:
        """Size of the table: distinct pieces seen plus described rows."""
        return len(self._pieces) + self._size

    @property
    def characters(self) -> int:
        """Characters of all pieces and tokens the table holds (a bound on its memory)."""
        return self._chars

    def rows(self, pieces: list[str]) -> npt.NDArray[np.intp]:
        """Row numbers of the tokens of ``pieces`` (in order), adding what is new.

        Parameters
        ----------
        pieces : list of str
            Output of :func:`edge_client.text.tokenizer.pieces_of`.

        Returns
        -------
        numpy.ndarray of intp
            One row per token, in text order (empty when the pieces hold no token).
        """
        # Piece numbers (one C-level map read straight into an array: NumPy 2.4 fills it
        # faster than it converts a list), then their rows by NumPy indexing.
        numbers = np.fromiter(map(self._pieces.__getitem__, pieces), np.intp, len(pieces))
        if self._staged.pieces:  # new pieces (this thread's or another's) reach the columns
            self._write_staged()
        lengths = self._lengths.take(numbers)
        starts = self._starts.take(numbers)
        if lengths.max(initial=1) == 1:  # at most one token a piece (the usual case)
            if lengths.min(initial=1) == 0:  # pieces without a token (">", "'") add no row
                starts = starts[lengths.astype(bool)]
            return self._flat.take(starts)
        ends = np.cumsum(lengths)
        within = np.arange(int(ends[-1])) + np.repeat(starts - (ends - lengths), lengths)
        rows: npt.NDArray[np.intp] = self._flat.take(within)
        return rows

    def items(self) -> Iterator[tuple[str, int, int, int]]:
        """Every token with its hash, kind code and row (for naming hashes in explanations)."""
        self._write_staged()
        hashes, kinds = self.hashes, self.kinds
        for row, token in enumerate(self._tokens[: self._size]):
            yield token, int(hashes[row]), int(kinds[row]), row

    def _add_word(self, word: str) -> int:
        """Number a new piece of ASCII letters only: one word token (the usual miss).

        What :meth:`_split` and :meth:`_row` do for such a piece, without the pattern and
        the lookups: the word is described, staged and numbered as a piece of its own row.
        """
        crc = zlib.crc32(word.encode())
        categories = self.lexicon.match(word)
        with self._lock:
            known = self._pieces.get(word)  # another thread numbered it meanwhile
            if known is not None:
                return known
            return self._add_piece(word, [self._append(word, WORD, crc, len(word), categories)])

    def _split(self, piece: str) -> int:
        """Number a piece not seen before, splitting it into tokens (called on a miss)."""
        if piece.isascii():
            # Lowercase ASCII letters only: the piece is one word token.
            tokens = [piece] if piece.isalpha() else _ASCII_PATTERN.findall(piece)
        else:
            tokens = full_token_pattern().findall(piece)
        with self._lock:
            rows = list(map(self._row, tokens))
            known = self._pieces.get(piece)  # the piece is one new token, or another thread
            return known if known is not None else self._add_piece(piece, rows)

    def _add_piece(self, piece: str, rows: list[int]) -> int:
        """Stage the rows of a new piece and return its number (lock held)."""
        staged = self._staged
        number = self._common + len(self._piece_rows)
        self._piece_rows.append(rows[0] if len(rows) == 1 else -1)
        staged.pieces.append(len(rows))
        staged.starts.append(self._flat_size)
        staged.flat.extend(rows)
        self._flat_size += len(rows)
        self._chars += len(piece)
        self._pieces[piece] = number  # last: other threads only see complete entries
        return number

    def _row(self, token: str) -> int:
        """The row of one token, described and staged if it is new (lock held)."""
        known = self._pieces.get(token)
        if known is not None:
            if known < self._common:  # the common words are pieces 0.. and rows 3..
                return known + END_ROWS
            row = self._piece_rows[known - self._common]
            if row >= 0:
                return row
        first = _FIRST[token[0]]
        fixed = _FIXED_ROWS.get(first)
        if fixed is not None:
            return fixed
        crc = zlib.crc32(token.encode())
        letters = len(token) if first <= _C_FOREIGN else 0
        categories = self.lexicon.match(token) if first <= _C_DIGIT else ()
        row = self._append(token, _KIND_OF_CLASS[first], crc, letters, categories)
        self._add_piece(token, [row])
        return row

    def _append(
        self, token: str, kind: int, crc: int, letters: int, categories: tuple[int, ...]
    ) -> int:
        """Stage a new token's columns and return its row (lock held)."""
        staged = self._staged
        staged.hashes.append(crc)
        staged.kinds.append(kind)
        staged.letters.append(letters)
        staged.descriptions.append(self._description(kind, categories))
        self._tokens.append(token)
        row = self._size
        self._size = row + 1
        return row

    def _write_staged(self) -> None:
        """Write the staged pieces and tokens to the NumPy columns, growing them if needed.

        Under the lock, and the staging lists are emptied only after the columns hold
        their values: a thread that was given a staged piece number either writes the
        columns itself or finds them written.
        """
        with self._lock:
            staged = self._staged
            tokens = len(staged.hashes)
            if tokens:
                start = self._size - tokens
                while self._size > len(self.kinds):
                    self._grow()
                self.hashes[start : self._size] = staged.hashes
                self.kinds[start : self._size] = staged.kinds
                self.letters[start : self._size] = staged.letters
                self.descriptions[start : self._size] = staged.descriptions
            pieces = len(staged.pieces)
            if pieces:
                start = len(self._pieces) - pieces
                stop = len(self._pieces)
                while stop > len(self._starts):
                    self._starts = np.concatenate([self._starts, np.zeros_like(self._starts)])
                    self._lengths = np.concatenate([self._lengths, np.zeros_like(self._lengths)])
                while self._flat_size > len(self._flat):
                    self._flat = np.concatenate([self._flat, np.zeros_like(self._flat)])
                # Plain list-to-slice writes: each piece's start was staged with it.
                self._lengths[start:stop] = staged.pieces
                self._starts[start:stop] = staged.starts
                self._flat[self._flat_size - len(staged.flat) : self._flat_size] = staged.flat
            staged.clear()

    def _description(self, kind: int, categories: tuple[int, ...]) -> int:
        """The row of :attr:`description_table` for a kind and categories (added if new)."""
        key = (kind, categories)
        description = self._described.get(key)
        if description is None:
            description = len(self._described)
            if description == len(self.description_table):
                self.description_table = np.concatenate(
                    [self.description_table, np.zeros_like(self.description_table)]
                )
            self.description_table[description, kind] = 1
            for category in categories:
                self.description_table[description, KINDS + category] = 1
            self._described[key] = description
        return description

    def _preload(self, common: CommonWords) -> None:
        """Append the shipped common words, already described, in bulk."""
        words = common.words
        if not words:
            return
        start = self._size
        stop = start + len(words)
        self.hashes[start:stop] = common.hashes
        self.kinds[start:stop] = WORD
        self.letters[start:stop] = np.fromiter(map(len, words), np.int64, len(words))
        ids = [self._description(WORD, cats) for cats in common.category_tuples()]
        self.descriptions[start:stop] = np.array(ids, np.int32)[common.category_sets]
        self._tokens.extend(words)
        self._size = stop
        # Each word is also a piece of one token: pieces 0.. are rows 3...
        count = len(words)
        self._starts[:count] = np.arange(count)
        self._lengths[:count] = 1
        self._flat[:count] = np.arange(start, stop)
        self._flat_size = count
        self._chars = sum(map(len, words))
        self._pieces.update(zip(words, range(count), strict=True))

    def _grow(self) -> None:
        """Double the per-token columns (new arrays hold every row written so far)."""
        self.hashes = np.concatenate([self.hashes, np.zeros_like(self.hashes)])
        self.kinds = np.concatenate([self.kinds, np.zeros_like(self.kinds)])
        self.letters = np.concatenate([self.letters, np.zeros_like(self.letters)])
        self.descriptions = np.concatenate([self.descriptions, np.zeros_like(self.descriptions)])


class _Staged:
    """New tokens' columns and new pieces' rows, not yet written to the NumPy columns."""

    __slots__ = ("descriptions", "flat", "hashes", "kinds", "letters", "pieces", "starts")

    def __init__(self) -> None:
        self.hashes: list[int] = []
        self.kinds: list[int] = []
        self.letters: list[int] = []
        self.descriptions: list[int] = []
        self.pieces: list[int] = []  # each new piece's number of tokens
        self.starts: list[int] = []  # where each one's rows start in the flat rows
        self.flat: list[int] = []  # their rows, piece after piece

    def clear(self) -> None:
        """Forget what was written."""
        for column in (self.hashes, self.kinds, self.letters, self.descriptions):
            column.clear()
        self.pieces.clear()
        self.starts.clear()
        self.flat.clear()


_NO_COMMON_WORDS = CommonWords(
    (),
    np.zeros(0, np.uint32),
    np.zeros(0, np.uint16),
    np.zeros((0, len(CATEGORY_NAMES)), np.uint8),
    "",
)


def _common_words(lexicon: Lexicon) -> CommonWords:
    """The shipped common words if they were described with ``lexicon``'s lists, else none."""
    if lexicon.source_sha256 is None:
        return _NO_COMMON_WORDS
    common = load_common_words()
    return common if common.lexicon_sha256 == lexicon.source_sha256 else _NO_COMMON_WORDS


class _Pieces(dict[str, int]):
    """Piece -> its number; a piece not seen before is split and numbered on first lookup."""

    __slots__ = ("_vocabulary",)

    def __init__(self, vocabulary: Vocabulary) -> None:
        super().__init__()
        self._vocabulary = vocabulary

    def __missing__(self, piece: str) -> int:
        if piece.isascii() and piece.isalpha():  # a new word: one token, no splitting
            return self._vocabulary._add_word(piece)
        return self._vocabulary._split(piece)


_ASCII_PATTERN = ascii_token_pattern()
_HASH_EXCLAMATION = zlib.crc32(b"!")
_HASH_QUESTION = zlib.crc32(b"?")

# Classes of a token's first character, and the kind code of each class.
_C_LATIN, _C_FOREIGN, _C_DIGIT, _C_PLACEHOLDER, _C_EXCLAMATION, _C_QUESTION, _C_END, _C_EMOJI = (
    range(8)
)
_KIND_OF_CLASS = (WORD, FOREIGN, WORD, OTHER, EXCLAMATION, QUESTION, END, EMOJI)
_FIXED_ROWS = {_C_END: 0, _C_EXCLAMATION: 1, _C_QUESTION: 2}

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
