"""Running counts of text signals, and the features and CDI computed from them.

A :class:`TextCounts` holds only counts: words, sentences, letters, ``!``/``?``/emoji,
psycholinguistic category hits, hashed unigram/bigram counts, and two counts that tell
whether the text is English prose (words in other scripts, code and markup symbols; see
:mod:`edge_client.text.language`). Counts add, so a profile
built from fifty short posts equals the profile of one essay made of the same sentences,
and no text has to be kept to update a profile. Bigrams never cross a sentence end, which
is what makes that equality exact.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from edge_client.text.hashing import count_bigrams, run_lengths
from edge_client.text.lexicon import CATEGORY_NAMES, Lexicon, load_lexicon
from edge_client.text.tokenizer import normalise, pieces_of
from edge_client.text.vocabulary import (
    BREAK,
    EMOJI,
    END_ROWS,
    EXCLAMATION,
    FOREIGN,
    KINDS,
    OTHER,
    QUESTION,
    WORD,
    Vocabulary,
)

__all__ = [
    "CDI_NEGATIVE",
    "CDI_POSITIVE",
    "DENSE_FEATURE_NAMES",
    "TextCounts",
    "UnigramArrays",
    "cdi",
    "dense_features",
    "extract",
    "extract_prepared",
    "token_names",
]

CDI_POSITIVE: tuple[str, ...] = ("article", "prep")
"""Categories that raise the Categorical-Dynamic Index (Pennebaker et al. 2014)."""
CDI_NEGATIVE: tuple[str, ...] = (
    "ppron",
    "ipron",
    "auxverb",
    "conj",
    "adverb",
    "negate",
)
"""Categories that lower the Categorical-Dynamic Index."""

_STYLOMETRIC = (
    "word_length",
    "words_per_sentence",
    "type_token_ratio",
    "exclamations",
    "questions",
    "emoji",
    "cdi",
)
DENSE_FEATURE_NAMES: tuple[str, ...] = tuple(f"pct_{c}" for c in CATEGORY_NAMES) + _STYLOMETRIC
"""Names of :func:`dense_features`, in order. ``pct_*`` are percent of words;
``exclamations``, ``questions`` and ``emoji`` are per 100 words."""

_CAT_INDEX = {name: i for i, name in enumerate(CATEGORY_NAMES)}
_CDI_POSITIVE_INDEX = tuple(_CAT_INDEX[name] for name in CDI_POSITIVE)
_CDI_NEGATIVE_INDEX = tuple(_CAT_INDEX[name] for name in CDI_NEGATIVE)


@dataclass
class TextCounts:
    """Additive counts of the signals in some amount of text.

    Attributes
    ----------
    words : float
        Word and number tokens (the denominator of every percentage). In scripts written
        without spaces each character is a word (see :mod:`edge_client.text.tokenizer`).
    sentences : float
        Sentences (a text's end closes its last sentence).
    letters : float
        Characters in word tokens.
    exclamations, questions, emoji : float
        Runs of ``!``, runs of ``?``, emoji.
    categories : numpy.ndarray
        Hits per category of :data:`edge_client.text.lexicon.CATEGORY_NAMES`.
    unigrams, bigrams : dict of int to float
        Hashed n-gram counts (32-bit CRC keys); never the n-grams themselves.
    foreign_words : float
        Word tokens whose first letter is not in the Latin script (Cyrillic, Greek, Arabic,
        Han, kana, Thai, ...): part of ``words``.
    symbols : float
        Characters typical of code and markup (braces, brackets, parentheses, ``<>;=|&^~$#_*``
        and backslashes) outside URLs,
        e-mail addresses and placeholders.
    """

    words: float = 0.0
    sentences: float = 0.0
    letters: float = 0.0
    exclamations: float = 0.0
    questions: float = 0.0
    emoji: float = 0.0
    categories: npt.NDArray[np.float64] = field(
        default_factory=lambda: np.zeros(len(CATEGORY_NAMES), np.float64)
    )
    unigrams: dict[int, float] = field(default_factory=dict)
    bigrams: dict[int, float] = field(default_factory=dict)
    foreign_words: float = 0.0
    symbols: float = 0.0

    def add(self, other: TextCounts) -> None:
        """Add another text's counts to these, in place."""
        if self.words == 0 and not self.unigrams and not self.bigrams and not self.sentences:
            # Fast path (first text after a reset): adopt copies instead of merging.
            self.words, self.sentences, self.letters = other.words, other.sentences, other.letters
            self.exclamations, self.questions, self.emoji = (
                other.exclamations,
                other.questions,
                other.emoji,
            )
            self.categories = self.categories + other.categories
            self.unigrams = dict(other.unigrams)
            self.bigrams = dict(other.bigrams)
            self.foreign_words += other.foreign_words
            self.symbols += other.symbols
            return
        self.words += other.words
        self.sentences += other.sentences
        self.letters += other.letters
        self.exclamations += other.exclamations
        self.questions += other.questions
        self.emoji += other.emoji
        self.categories += other.categories
        self.foreign_words += other.foreign_words
        self.symbols += other.symbols
        for mine, theirs in ((self.unigrams, other.unigrams), (self.bigrams, other.bigrams)):
            get = mine.get
            for key, count in theirs.items():
                mine[key] = get(key, 0.0) + count

    def scale(self, factor: float) -> None:
        """Multiply every count by ``factor`` in place (profile decay).

        Hashed counts that fall below 0.01 are dropped so a decayed profile shrinks.
        """
        if not 0.0 <= factor <= 1.0:
            raise ValueError(f"decay factor must be in [0, 1], got {factor}")
        self.words *= factor
        self.sentences *= factor
        self.letters *= factor
        self.exclamations *= factor
        self.questions *= factor
        self.emoji *= factor
        self.categories *= factor
        self.foreign_words *= factor
        self.symbols *= factor
        for bag in (self.unigrams, self.bigrams):
            for key in list(bag):
                value = bag[key] * factor
                if value < 0.01:
                    del bag[key]
                else:
                    bag[key] = value

    def copy(self) -> TextCounts:
        """Return an independent copy."""
        return TextCounts(
            self.words,
            self.sentences,
            self.letters,
            self.exclamations,
            self.questions,
            self.emoji,
            self.categories.copy(),
            dict(self.unigrams),
            dict(self.bigrams),
            self.foreign_words,
            self.symbols,
        )


def extract(text: str, lexicon: Lexicon | None = None, *, bigrams: bool = False) -> TextCounts:
    """Count the signals in one text (:func:`extract_prepared` without its arrays).

    Parameters
    ----------
    text : str
        User text; any string, including the empty one.
    lexicon : Lexicon, optional
        Category word lists (default: the packaged ones).
    bigrams : bool, default False
        Also count hashed bigrams (within sentences). The shipped models use unigrams
        only, so the profiler skips bigrams unless a model asks for them.

    Returns
    -------
    TextCounts
        The text's counts. The text itself is not kept.
    """
    return extract_prepared(text, lexicon, bigrams=bigrams)[0]


UnigramArrays = tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]
"""A text's hashed unigram counts as arrays: the keys, increasing, and their counts."""


def extract_prepared(
    text: str, lexicon: Lexicon | None = None, *, bigrams: bool = False
) -> tuple[TextCounts, UnigramArrays]:
    """:func:`extract`, and the unigram counts also as the arrays they were counted in.

    The profiler reads the arrays instead of converting ``unigrams`` back (see
    :func:`edge_client.text.hashing.prepared_input`) as long as the counts are its own and
    unchanged.

    Parameters
    ----------
    text, lexicon, bigrams
        As for :func:`extract`.

    Returns
    -------
    counts : TextCounts
        What :func:`extract` returns.
    unigrams : tuple of numpy.ndarray
        ``counts.unigrams`` as keys (int64, increasing, the dict's order) and counts
        (float64).
    """
    lex = lexicon if lexicon is not None else load_lexicon()
    normalised = normalise(text)
    encoded = normalised.encode("utf-8", "surrogatepass")
    # Code and markup symbols are ASCII: count their bytes (UTF-8 never reuses ASCII bytes).
    symbols = float(len(encoded.translate(None, _NOT_SYMBOL)))
    vocab = _vocabulary(lex)
    rows = vocab.rows(pieces_of(normalised, encoded))
    if not len(rows):
        return TextCounts(symbols=symbols), _NO_UNIGRAMS
    # Every count is read from the table's columns in bulk (no per-token Python work).
    ends = rows < END_ROWS
    # A sentence closes where a non-ending token is followed by an ending one, and at the
    # end of the text.
    sentences = int(np.count_nonzero(ends[1:] > ends[:-1])) + int(not ends[-1])
    # Kind tally, then category hits: a histogram of the tokens' descriptions times the
    # table of what each description counts for.
    histogram = np.bincount(vocab.descriptions.take(rows)).astype(np.float64)
    described = histogram @ vocab.description_table[: len(histogram)]
    tally = described[:KINDS].tolist()
    hashes = vocab.hashes.take(rows)
    pairs: dict[int, float] = {}
    if bigrams:
        within = hashes.copy()
        within[ends] = BREAK  # no bigram touches a sentence-ending token
        pairs = count_bigrams(within, BREAK)
    distinct, repeats = run_lengths(hashes)
    if distinct[-1] == BREAK:  # sentence ends ("." runs; the largest key) are not counted
        distinct, repeats = distinct[:-1], repeats[:-1]
    counts = TextCounts(
        words=float(tally[WORD] + tally[FOREIGN]),
        sentences=float(sentences),
        letters=float(vocab.letters.take(rows).sum()),
        exclamations=float(tally[EXCLAMATION]),
        questions=float(tally[QUESTION]),
        emoji=float(tally[EMOJI]),
        categories=described[KINDS:],
        unigrams=dict(zip(distinct.tolist(), repeats.tolist(), strict=True)),
        bigrams=pairs,
        foreign_words=float(tally[FOREIGN]),
        # Placeholders ("<url>") hold two of the symbols counted above.
        symbols=max(0.0, symbols - 2.0 * tally[OTHER]),
    )
    return counts, (distinct.view(np.int64), repeats)


_NO_UNIGRAMS: UnigramArrays = (np.zeros(0, np.int64), np.zeros(0, np.float64))
_SYMBOLS = b"{}[]()<>;=|&\\^~$#_*"
_NOT_SYMBOL = bytes(b for b in range(256) if b not in _SYMBOLS)
_VOCABULARIES: dict[int, Vocabulary] = {}
_VOCABULARY_LIMIT = 200_000
_VOCABULARY_CHARACTERS = 4_000_000


def _vocabulary(lex: Lexicon) -> Vocabulary:
    """The token table of ``lex`` (a fresh one past 200,000 entries or 4 million characters)."""
    vocab = _VOCABULARIES.get(id(lex))
    if (
        vocab is None
        or vocab.lexicon is not lex
        or len(vocab) > _VOCABULARY_LIMIT
        or vocab.characters > _VOCABULARY_CHARACTERS
    ):
        vocab = _VOCABULARIES[id(lex)] = Vocabulary(lex)
    return vocab


def cdi(counts: TextCounts) -> float:
    """Categorical-Dynamic Index of the counted text (Pennebaker et al. 2014).

    ``CDI = 30 + article + prep - ppron - ipron - auxverb - conj - adverb - negate``, each
    term in percent of words. Higher is more categorical (analytical) language.

    Parameters
    ----------
    counts : TextCounts
        Counts of some text.

    Returns
    -------
    float
        The index; 30.0 for text without words.
    """
    if counts.words <= 0:
        return 30.0
    pct = (counts.categories * (100.0 / counts.words)).tolist()
    score = 30.0
    for index in _CDI_POSITIVE_INDEX:
        score += pct[index]
    for index in _CDI_NEGATIVE_INDEX:
        score -= pct[index]
    return score


def dense_features(counts: TextCounts) -> npt.NDArray[np.float32]:
    """Dense psycholinguistic and stylometric features, named by :data:`DENSE_FEATURE_NAMES`.

    Parameters
    ----------
    counts : TextCounts
        Counts of some text.

    Returns
    -------
    numpy.ndarray of float32
        Category percentages, mean word length, words per sentence, type-token ratio,
        ``!``/``?``/emoji per 100 words and the CDI; zeros (CDI 30) without words.
    """
    out = np.zeros(len(DENSE_FEATURE_NAMES), np.float32)
    words = counts.words
    if words > 0:
        out[: len(CATEGORY_NAMES)] = counts.categories * (100.0 / words)
        base = len(CATEGORY_NAMES)
        out[base] = counts.letters / words
        out[base + 1] = words / max(counts.sentences, 1.0)
        out[base + 2] = min(1.0, len(counts.unigrams) / words)
        out[base + 3] = counts.exclamations * 100.0 / words
        out[base + 4] = counts.questions * 100.0 / words
        out[base + 5] = counts.emoji * 100.0 / words
    out[-1] = cdi(counts)
    return out


def token_names(hashes: Iterable[int]) -> dict[int, str]:
    """Name token hashes by the tokens this process has seen (for explanations only).

    The names come from the in-memory token cache of :func:`extract`; nothing is stored.

    Parameters
    ----------
    hashes : iterable of int
        Unigram hashes to name.

    Returns
    -------
    dict of int to str
        The hashes that could be named; word tokens only.
    """
    wanted = set(hashes)
    names: dict[int, str] = {}
    for vocab in _VOCABULARIES.values():
        for tok, h, code, _row in vocab.items():
            if code == WORD and h in wanted and tok[0].isalpha():
                names.setdefault(h, tok)
    return names
