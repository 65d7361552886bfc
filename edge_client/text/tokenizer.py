"""A tokenizer for real user text: emoji, URLs, contractions, non-ASCII, empty input.

The tokenizer lowercases, normalises typographic apostrophes to ``'``, keeps contractions
whole (``don't``, ``i'm``), replaces URLs and e-mail addresses by the placeholders
``<url>`` and ``<email>`` (so no address reaches a hash or a model), keeps placeholders
already present in the text (``<url>``, ``<type>``), splits emoji into tokens of their own
and marks sentence ends. It never raises on odd input: any ``str`` tokenizes, the empty
string to nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

__all__ = ["Token", "TokenKind", "iter_sentences", "kind_of", "normalise", "scan", "tokenize"]


class TokenKind(Enum):
    """What a token is."""

    WORD = "word"
    """Letters, possibly with internal apostrophes (``don't``); hyphens split words."""
    NUMBER = "number"
    """Digits, possibly with ``.`` or ``,`` inside (``3.5``, ``1,000``)."""
    PLACEHOLDER = "placeholder"
    """``<url>``, ``<email>`` and placeholders the text already carried (``<type>``)."""
    EMOJI = "emoji"
    """One emoji or pictograph."""
    EXCLAMATION = "exclamation"
    """A run of ``!`` (may also end a sentence)."""
    QUESTION = "question"
    """A run of ``?`` (may also end a sentence)."""
    SENTENCE_END = "sentence_end"
    """A ``.``/``…`` run, or a line break: the end of a sentence."""


@dataclass(frozen=True, slots=True)
class Token:
    """One token of user text.

    Attributes
    ----------
    text : str
        The normalised token (lowercase; placeholders for URLs and e-mail addresses).
    kind : TokenKind
        What the token is.
    """

    text: str
    kind: TokenKind


_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'", "\u00b4": "'"})
_APOSTROPHE_CHARS = ("\u2019", "\u2018", "\u02bc", "`", "\u00b4")

# Emoji and pictographs: the main emoji blocks, dingbats, symbols, arrows.
_EMOJI = "\U0001f000-\U0001faff\u2600-\u27bf\u2b00-\u2bff\u2300-\u23ff"

_URL_RE = re.compile(r"(?:https?://|ftp://|www\.)[^\s<>\"]+")
_EMAIL_RE = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# One pattern without groups (findall is fastest that way); the kind of a match follows
# from its first character. ASCII words come first: they are most tokens.
_TOKEN_RE = re.compile(
    r"[a-z]+(?:'[a-z]+)*(?![^\W\d_])"
    r"|[^\W\d_]+(?:['\-][^\W\d_]+)*"
    r"|\d+(?:[.,]\d+)*"
    r"|<[a-z_]{1,20}>"
    rf"|[{_EMOJI}]"
    r"|!+|\?+|[.\u2026\n]+"
)


def normalise(text: str) -> str:
    """Lowercase the text, map typographic apostrophes to ``'``, mask URLs and e-mails.

    Parameters
    ----------
    text : str
        Raw user text.

    Returns
    -------
    str
        The text the token pattern runs on: URLs replaced by `` <url> `` and e-mail
        addresses by `` <email> `` so no address reaches a hash or a model.
    """
    if any(ch in text for ch in _APOSTROPHE_CHARS):
        text = text.translate(_APOSTROPHES)
    text = text.lower()
    if "://" in text or "www." in text:
        text = _URL_RE.sub(" <url> ", text)
    if "@" in text:
        text = _EMAIL_RE.sub(" <email> ", text)
    return text


def scan(text: str) -> list[str]:
    """Split user text into token strings (the fast path of :func:`tokenize`).

    Parameters
    ----------
    text : str
        Any string.

    Returns
    -------
    list of str
        Normalised tokens; :func:`kind_of` tells what each is. Runs of ``.``/``…``/line
        breaks come out as they are (sentence ends).
    """
    return _TOKEN_RE.findall(normalise(text))


_FIRST_CHAR_KINDS = {
    "<": TokenKind.PLACEHOLDER,
    "!": TokenKind.EXCLAMATION,
    "?": TokenKind.QUESTION,
}


def kind_of(token: str) -> TokenKind:
    """Classify a token string produced by :func:`scan` from its first character."""
    first = token[0]
    if first.isalpha():
        return TokenKind.WORD
    if first.isdigit():
        return TokenKind.NUMBER
    kind = _FIRST_CHAR_KINDS.get(first)
    if kind is not None:
        return kind
    if first in ".\u2026\n":
        return TokenKind.SENTENCE_END
    return TokenKind.EMOJI


_FIXED_TEXT = {TokenKind.EXCLAMATION: "!", TokenKind.QUESTION: "?", TokenKind.SENTENCE_END: "."}


def tokenize(text: str) -> list[Token]:
    """Split user text into tokens.

    Parameters
    ----------
    text : str
        Any string: empty, emoji-only, non-ASCII and very long texts are all fine.

    Returns
    -------
    list of Token
        Tokens in text order. URLs and e-mail addresses become ``<url>`` and ``<email>``.

    Examples
    --------
    >>> [t.text for t in tokenize("I don't know… see https://x.io 😀!")]
    ['i', "don't", 'know', '.', 'see', '<url>', '😀', '!']
    """
    tokens = []
    for tok in scan(text):
        kind = kind_of(tok)
        tokens.append(Token(_FIXED_TEXT.get(kind, tok), kind))
    return tokens


_SENTENCE_ENDERS = frozenset({TokenKind.SENTENCE_END, TokenKind.EXCLAMATION, TokenKind.QUESTION})


def iter_sentences(tokens: list[Token]) -> list[list[Token]]:
    """Group tokens into sentences (runs of tokens between sentence-ending tokens).

    Parameters
    ----------
    tokens : list of Token
        Output of :func:`tokenize`.

    Returns
    -------
    list of list of Token
        Non-empty sentences without their ending tokens. The end of the input ends a
        sentence, so a text and the same text split at sentence ends give the same
        sentences.
    """
    sentences: list[list[Token]] = []
    current: list[Token] = []
    for token in tokens:
        if token.kind in _SENTENCE_ENDERS:
            if current:
                sentences.append(current)
                current = []
        else:
            current.append(token)
    if current:
        sentences.append(current)
    return sentences
