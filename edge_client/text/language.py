"""Is the counted text English prose? A small on-device check over running counts.

The shipped models read English. Text that is mostly another language or script, code or
markup, numbers, or nothing but emoji must not be profiled: a hashed bag of German words
still lands in buckets the interest model has weights for, and would come out as confident
nonsense. This check needs no network and no model; it reads only the additive counts of
:class:`~edge_client.text.features.TextCounts`, so it gives the same verdict for fifty short
posts as for one essay made of them:

* **Script.** ``foreign_words`` counts word tokens whose first letter is not Latin (Han,
  kana, Hangul, Thai, Cyrillic, Greek, Arabic, ...); at least half of the words → *other
  language*.
* **English function words.** Two shares of the words: frequent English words that other
  Latin-script languages do not use (``the``, ``and``, ``of``, ``that``, ``with``, ``said``, ...;
  counted from the hashed unigrams) and the lexicon's function-word categories (articles,
  prepositions, pronouns, auxiliaries, conjunctions, negations). With at least
  :data:`MIN_WORDS_TO_TELL` words, a text low on both is *other language*. Every
  non-English sample in the tests (ten Latin-script languages, six other scripts) is
  refused; of the English test texts of the shared corpora, all rules together refuse 0.6%
  of Reddit posts, 0.4% of AG News items and 3.8% of 20 Newsgroups posts (code, uuencoded
  files, tables; ``scripts/bench_accuracy.py``).
* **Code and markup.** ``symbols`` counts braces, brackets, parentheses, backslashes and
  ``<>;=|&^~$#_*``; many of them per word in text with few function words → *not prose*.
* **Numbers.** Most words are numbers → *not prose*.
* **No words** (empty, whitespace, emoji or punctuation only) → *no words*.

Short texts (fewer than :data:`MIN_WORDS_TO_TELL` words) in Latin script are given the
benefit of the doubt: there is too little to tell, and the profile already says the evidence
is thin.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import numpy as np

from edge_client.text.features import TextCounts
from edge_client.text.hashing import hash_token
from edge_client.text.lexicon import CATEGORY_NAMES

__all__ = [
    "ENGLISH_MARKERS",
    "MIN_WORDS_TO_TELL",
    "LanguageCheck",
    "TextLanguage",
    "check_language",
    "text_language",
]


class TextLanguage(Enum):
    """What the observed text is, as far as the models are concerned."""

    ENGLISH = "english"
    """English prose: the models may read it."""
    OTHER = "other_language"
    """Mostly another language or another script."""
    NOT_PROSE = "not_prose"
    """Mostly code, markup or numbers."""
    NO_WORDS = "no_words"
    """No words at all (empty, or only emoji, symbols or punctuation)."""


ENGLISH_MARKERS: tuple[str, ...] = (
    "the", "and", "of", "that", "you", "with", "this", "have", "they", "what", "would",
    "there", "their", "which", "been", "were", "from", "your", "about", "just", "because",
    "don't", "it's", "i'm", "are", "but", "not", "it", "than", "then", "when", "who", "said",
    "says", "has", "had", "his", "her", "she", "its", "by", "after", "more", "new", "up",
    "out", "year", "into", "first",
)  # fmt: skip
"""Frequent English words that are not words of other Latin-script languages (``in``,
``a``, ``is``, ``so``, ``die``, ``was`` are left out: German, Dutch or Romance text has them)."""

MIN_WORDS_TO_TELL = 12
"""Fewest words for a verdict on a Latin-script text's language."""

_MARKER_HASHES = tuple(hash_token(word) for word in ENGLISH_MARKERS)
_ZEROS = (0.0,) * len(_MARKER_HASHES)
_FUNCTION = np.array(
    [
        CATEGORY_NAMES.index(name)
        for name in ("article", "prep", "ppron", "ipron", "auxverb", "conj", "negate")
    ]
)
_NUMBER = CATEGORY_NAMES.index("number")
_MIN_MARKER_SHARE = 0.02
_MIN_FUNCTION_SHARE = 0.2
_MAX_FOREIGN_SHARE = 0.5
_MAX_NUMBER_SHARE = 0.5
_MAX_SYMBOLS_PER_WORD = 0.3
_CODE_FUNCTION_SHARE = 0.3


@dataclass(frozen=True)
class LanguageCheck:
    """The verdict on some counted text, with the shares it rests on.

    Attributes
    ----------
    language : TextLanguage
        The verdict.
    words : float
        Words counted.
    foreign_share : float
        Share of words in a script other than Latin.
    marker_share : float
        Share of words that are :data:`ENGLISH_MARKERS`.
    function_share : float
        Lexicon function-word hits per word.
    number_share : float
        Share of words that are numbers.
    symbols_per_word : float
        Code and markup characters per word.
    """

    language: TextLanguage
    words: float
    foreign_share: float = 0.0
    marker_share: float = 0.0
    function_share: float = 0.0
    number_share: float = 0.0
    symbols_per_word: float = 0.0

    @property
    def readable(self) -> bool:
        """Whether the models may read the text (it is English prose)."""
        return self.language is TextLanguage.ENGLISH

    def note(self) -> str:
        """One plain-words sentence for the profile's notes (never quotes the text)."""
        words = round(self.words)
        if self.language is TextLanguage.OTHER and self.foreign_share >= _MAX_FOREIGN_SHARE:
            return (
                f"The text is mostly not in English ({self.foreign_share:.0%} of its {words} "
                "words are in another script) and the models only read English: nothing is "
                "inferred from it."
            )
        if self.language is TextLanguage.OTHER:
            return (
                f"The text does not look like English (only {self.marker_share:.0%} of its "
                f"{words} words are common English words) and the models only read English: "
                "nothing is inferred from it."
            )
        if self.language is TextLanguage.NOT_PROSE and self.number_share >= _MAX_NUMBER_SHARE:
            return (
                f"The text is mostly numbers ({self.number_share:.0%} of its {words} words), "
                "not prose: nothing is inferred from it."
            )
        if self.language is TextLanguage.NOT_PROSE:
            return (
                f"The text looks like code or markup ({self.symbols_per_word:.1f} code symbols "
                "per word), not prose: nothing is inferred from it."
            )
        if self.language is TextLanguage.NO_WORDS:
            return "The text has no words (only emoji, symbols or nothing): nothing is inferred."
        return "The text is English prose."


def check_language(counts: TextCounts) -> LanguageCheck:
    """Decide whether counted text is English prose the models may read.

    Parameters
    ----------
    counts : TextCounts
        Running counts of one text or of everything observed.

    Returns
    -------
    LanguageCheck
        The verdict and the shares behind it.
    """
    words = float(counts.words)
    if words <= 0:
        return LanguageCheck(TextLanguage.NO_WORDS, 0.0)
    shares = _shares(counts, words)
    return LanguageCheck(_verdict(words, shares), words, *shares)


def text_language(counts: TextCounts) -> TextLanguage:
    """The verdict of :func:`check_language` alone (what a profile needs of English text).

    Parameters
    ----------
    counts : TextCounts
        Running counts of one text or of everything observed.

    Returns
    -------
    TextLanguage
        ``check_language(counts).language``, without building the check.
    """
    words = float(counts.words)
    if words <= 0:
        return TextLanguage.NO_WORDS
    return _verdict(words, _shares(counts, words))


def _shares(counts: TextCounts, words: float) -> tuple[float, float, float, float, float]:
    """Foreign, marker, function-word, number and symbol shares of ``words`` words."""
    markers = sum(map(counts.unigrams.get, _MARKER_HASHES, _ZEROS))
    categories = counts.categories
    return (
        float(counts.foreign_words) / words,
        markers / words,
        # add.reduce is what ndarray.sum() runs, without its Python-level wrapper.
        float(np.add.reduce(categories.take(_FUNCTION))) / words,
        float(categories[_NUMBER]) / words,
        float(counts.symbols) / words,
    )


def _verdict(words: float, shares: tuple[float, float, float, float, float]) -> TextLanguage:
    """The verdict on text of ``words`` words with :func:`_shares` (the module's rules)."""
    foreign, marker, function, number, symbols = shares
    if foreign >= _MAX_FOREIGN_SHARE:
        return TextLanguage.OTHER
    if number >= _MAX_NUMBER_SHARE or (
        symbols >= _MAX_SYMBOLS_PER_WORD and function < _CODE_FUNCTION_SHARE
    ):
        return TextLanguage.NOT_PROSE
    if words >= MIN_WORDS_TO_TELL and marker < _MIN_MARKER_SHARE and function < _MIN_FUNCTION_SHARE:
        return TextLanguage.OTHER
    return TextLanguage.ENGLISH
