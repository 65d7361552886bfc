"""The shipped table of common words: the featurizer's token table, computed ahead of time.

The first time a process meets a word, the featurizer describes it (its CRC-32 hash, its
letters, its lexicon categories), which costs more than counting it. ``common-words.bin``
holds those descriptions for about twenty thousand common English words, so that a device
starts with them already described (``python -m models.vocabulary`` rebuilds the file from
the public-domain reddit-top2013 training posts; its ``README.md`` says how). It holds words
only, no text, and no word that fewer than ten posts used.

Layout (little-endian): the magic ``b"edgeprof-words/1"``; three ``uint32`` (words ``n``,
distinct category sets ``m``, bytes of word text); the SHA-256 (32 raw bytes) of the lexicon
files the categories were computed with (:attr:`Lexicon.source_sha256`); ``m`` rows of one
byte per category (0 or 1); ``n`` CRC-32 values (``uint32``); ``n`` category-set numbers
(``uint16``); the words, ASCII, one a line. The file is checked against
:data:`PACKAGED_SHA256` on every load and its sizes and values are bounded before use.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from edge_client.digest import sha256
from edge_client.errors import EdgeProfilerError
from edge_client.packaged import asset_path
from edge_client.text.lexicon import CATEGORY_NAMES

__all__ = [
    "MAGIC",
    "PACKAGED_SHA256",
    "CommonWords",
    "CommonWordsError",
    "encode_common_words",
    "load_common_words",
    "parse_common_words",
]

MAGIC = b"edgeprof-words/1"
"""First bytes of the file (format version 1)."""
PACKAGED_SHA256 = "3b95785830cbe55c7ae4aedb8140f777fb4ef0590b2398c76f1dc269864fa640"
"""SHA-256 of the packaged ``common-words.bin``.

Update it whenever the file is rebuilt (``python -m models.vocabulary`` prints the value;
``tests/edge_client/text/test_common_words.py`` fails until it matches)."""

_NAME = ("vocabulary", "common-words.bin")
_HEADER = len(MAGIC) + 12 + 32
_MAX_WORDS = 1 << 16
_MAX_WORD_CHARS = 64


class CommonWordsError(EdgeProfilerError):
    """The shipped table of common words is damaged or does not match its recorded hash."""


@dataclass(frozen=True)
class CommonWords:
    """Common words with their hashes and lexicon categories.

    Attributes
    ----------
    words : tuple of str
        Lowercase ASCII words (letters, inner apostrophes), most common first.
    hashes : numpy.ndarray of uint32
        CRC-32 of each word.
    category_sets : numpy.ndarray of uint16
        Each word's row of ``categories``.
    categories : numpy.ndarray of uint8
        ``[sets, len(CATEGORY_NAMES)]``: 1 where a set holds the category.
    lexicon_sha256 : str
        :attr:`~edge_client.text.lexicon.Lexicon.source_sha256` of the lexicon used.
    """

    words: tuple[str, ...]
    hashes: npt.NDArray[np.uint32]
    category_sets: npt.NDArray[np.uint16]
    categories: npt.NDArray[np.uint8]
    lexicon_sha256: str

    def category_tuples(self) -> list[tuple[int, ...]]:
        """Each category set as sorted category indices (as ``Lexicon.lookup`` gives them)."""
        return [tuple(np.flatnonzero(row).tolist()) for row in self.categories]


def encode_common_words(table: CommonWords) -> bytes:
    """The file bytes of ``table`` (the inverse of :func:`parse_common_words`)."""
    text = "\n".join(table.words).encode("ascii")
    header = b"".join(
        value.to_bytes(4, "little")
        for value in (len(table.words), len(table.categories), len(text))
    )
    return b"".join(
        (
            MAGIC,
            header,
            bytes.fromhex(table.lexicon_sha256),
            np.ascontiguousarray(table.categories, np.uint8).tobytes(),
            np.asarray(table.hashes, "<u4").tobytes(),
            np.asarray(table.category_sets, "<u2").tobytes(),
            text,
        )
    )


def parse_common_words(data: bytes, source: str) -> CommonWords:
    """Parse and bound-check the bytes of a common-words file.

    Parameters
    ----------
    data : bytes
        The file's bytes.
    source : str
        The file's name, for error messages.

    Raises
    ------
    CommonWordsError
        When the magic, a size, a category cell, a set number or a word is out of range.
    """
    if len(data) < _HEADER or not data.startswith(MAGIC):
        raise CommonWordsError(f"{source}: not a common-words file (magic {MAGIC!r} missing)")
    at = len(MAGIC)
    words, sets, text_bytes = (
        int.from_bytes(data[at + 4 * i : at + 4 * i + 4], "little") for i in range(3)
    )
    width = len(CATEGORY_NAMES)
    if not 0 < words <= _MAX_WORDS or not 0 < sets <= words:
        raise CommonWordsError(f"{source}: header: {words} words, {sets} category sets")
    size = _HEADER + sets * width + words * 6 + text_bytes
    if len(data) != size or text_bytes > words * (_MAX_WORD_CHARS + 1):
        raise CommonWordsError(f"{source}: {len(data)} bytes, the header describes {size}")
    lexicon = data[at + 12 : _HEADER].hex()
    at = _HEADER
    categories = np.frombuffer(data, np.uint8, sets * width, at).reshape(sets, width)
    at += sets * width
    hashes = np.frombuffer(data, "<u4", words, at).astype(np.uint32)
    at += words * 4
    category_sets = np.frombuffer(data, "<u2", words, at).astype(np.uint16)
    if int(categories.max()) > 1:
        raise CommonWordsError(f"{source}: category cells must be 0 or 1")
    if int(category_sets.max()) >= sets:
        raise CommonWordsError(f"{source}: a word's category set is not one of the {sets}")
    try:
        text = data[at + words * 2 :].decode("ascii")
    except UnicodeDecodeError as exc:
        raise CommonWordsError(f"{source}: words: not ASCII at byte {exc.start}") from None
    listed = tuple(text.split("\n"))
    # Checked in bulk: lowercase letters only, one non-empty word of at most 64 a line.
    letters = text.replace("\n", "")
    if (
        len(listed) != words
        or not (letters.isalpha() and letters.islower())
        or "\n\n" in text
        or text.startswith("\n")
        or text.endswith("\n")
        or max(map(len, listed)) > _MAX_WORD_CHARS
    ):
        raise CommonWordsError(f"{source}: words: expected {words} lowercase words, one a line")
    return CommonWords(listed, hashes, category_sets, categories, lexicon)


@functools.cache
def load_common_words() -> CommonWords:
    """Load the packaged ``edge_client/assets/vocabulary/common-words.bin`` (once).

    Raises
    ------
    CommonWordsError
        When the file is missing, its SHA-256 is not :data:`PACKAGED_SHA256` or it is
        malformed.
    """
    source = "edge_client/assets/" + "/".join(_NAME)
    try:
        data = asset_path(*_NAME).read_bytes()
    except OSError as exc:
        raise CommonWordsError(f"{source}: cannot be read ({exc.strerror})") from None
    digest = sha256(data).hexdigest()
    if digest != PACKAGED_SHA256:
        raise CommonWordsError(
            f"{source}: SHA-256 {digest[:12]}... is not the recorded {PACKAGED_SHA256[:12]}... "
            "(a damaged install; reinstall edge-profiler)"
        )
    return parse_common_words(data, source)
