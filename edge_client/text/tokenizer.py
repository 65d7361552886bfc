"""A tokenizer for real user text: emoji, URLs, contractions, non-ASCII, empty input.

The tokenizer lowercases, normalises typographic apostrophes to ``'``, keeps contractions
whole (``don't``, ``i'm``), replaces URLs and e-mail addresses by the placeholders
``<url>`` and ``<email>`` (so no address reaches a hash or a model), keeps placeholders
already present in the text (``<url>``, ``<type>``), splits emoji into tokens of their own
and marks sentence ends. It never raises on odd input: any ``str`` tokenizes, the empty
string to nothing.

Scripts written without spaces between words (Han, Hiragana, Katakana, Bopomofo, Thai, Lao,
Tibetan, Myanmar, Khmer) give **one word token per character**, with any combining marks
(Thai vowel and tone marks, kana voicing marks) attached to the character before them. This
is how word processors count Chinese and Japanese, where a character is about a morpheme; for
Thai and its neighbours, which word processors segment with a dictionary, it over-counts
(about three to four characters make a word) but stays stable and additive. Text without
such characters tokenizes exactly as before the rule existed.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from enum import Enum

__all__ = [
    "NO_SPACE_LETTERS",
    "NO_SPACE_MARKS",
    "Token",
    "TokenKind",
    "ascii_token_pattern",
    "full_token_pattern",
    "iter_sentences",
    "kind_of",
    "normalise",
    "pieces_of",
    "scan",
    "scan_normalised",
    "tokenize",
]


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

# Letters of the scripts written without spaces (each is a word of its own), and the
# combining marks that belong to the letter before them. Generated from Unicode 14 letter
# (L*) and mark (Mn, Mc) categories of the Thai, Lao, Tibetan, Myanmar, Khmer, Khmer
# Symbols, kana, Bopomofo and CJK ideograph blocks; tests check every entry's category.
NO_SPACE_LETTERS = (
    "\u0e01-\u0e30\u0e32-\u0e33\u0e40-\u0e46\u0e81-\u0e82\u0e84\u0e86-\u0e8a\u0e8c-\u0ea3"
    "\u0ea5\u0ea7-\u0eb0\u0eb2-\u0eb3\u0ebd\u0ec0-\u0ec4\u0ec6\u0edc-\u0edf\u0f00\u0f40-\u0f47"
    "\u0f49-\u0f6c\u0f88-\u0f8c\u1000-\u102a\u103f\u1050-\u1055\u105a-\u105d\u1061"
    "\u1065-\u1066\u106e-\u1070\u1075-\u1081\u108e\u1780-\u17b3\u17d7\u17dc\u3041-\u3096"
    "\u309d-\u309f\u30a1-\u30fa\u30fc-\u30ff\u3105-\u312f\u31a0-\u31bf\u31f0-\u31ff"
    "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufa6d\ufa70-\ufad9\uff66-\uff9f"
    "\U00020000-\U0002a6df\U0002a700-\U0002b738\U0002b740-\U0002b81d\U0002b820-\U0002cea1"
    "\U0002ceb0-\U0002ebe0\U0002f800-\U0002fa1d\U00030000-\U0003134a"
)
"""Character ranges (regex class syntax) of letters that are one word each."""
NO_SPACE_MARKS = (
    "\u0e31\u0e34-\u0e3a\u0e47-\u0e4e\u0eb1\u0eb4-\u0ebc\u0ec8-\u0ecd\u0f18-\u0f19\u0f35"
    "\u0f37\u0f39\u0f3e-\u0f3f\u0f71-\u0f84\u0f86-\u0f87\u0f8d-\u0f97\u0f99-\u0fbc\u0fc6"
    "\u102b-\u103e\u1056-\u1059\u105e-\u1060\u1062-\u1064\u1067-\u106d\u1071-\u1074"
    "\u1082-\u108d\u108f\u109a-\u109d\u17b4-\u17d3\u17dd\u3099-\u309a"
)
"""Character ranges of the combining marks that stay with the letter before them."""

_URL_RE = re.compile(r"(?:https?://|ftp://|www\.)[^\s<>\"]+")
_EMAIL_RE = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# Part of every e-mail match, found by a fast scan for "@": only text that holds one runs
# the e-mail pattern, whose retries at every letter cost tens of microseconds a text
# ("@name" mentions without a domain are common and never match).
_EMAIL_DOMAIN_RE = re.compile(r"@[\w-]+\.[\w-]")
# One pattern without groups (findall is fastest that way); the kind of a match follows
# from its first character. ASCII words come first: they are most tokens. A letter of a
# script without spaces is a token of its own (with its marks); other letters form words.
# Compiled on first use (its Unicode classes take milliseconds): ASCII text never needs it.
_TOKEN_PATTERN = (
    r"[a-z]+(?:'[a-z]+)*(?![^\W\d_])"
    rf"|[{NO_SPACE_LETTERS}][{NO_SPACE_MARKS}]*"
    rf"|[^\W\d_{NO_SPACE_LETTERS}]+(?:['\-][^\W\d_{NO_SPACE_LETTERS}]+)*"
    r"|\d+(?:[.,]\d+)*"
    r"|<[a-z_]{1,20}>"
    rf"|[{_EMOJI}]"
    r"|!+|\?+|[.\u2026\n]+"
)


@functools.cache
def full_token_pattern() -> re.Pattern[str]:
    """The token pattern for any text (compiled once, on first use)."""
    return re.compile(_TOKEN_PATTERN)


# The same pattern for text that is all ASCII (most English text): with no uppercase (the
# text is lowercased), no emoji and no letters outside a-z, only these branches can match,
# and they match exactly what the full pattern matches, about twice as fast. The leading
# lookahead names every character a branch can start with: it changes no match, but lets
# the engine skip spaces and punctuation without trying each branch (about 25% faster).
_ASCII_TOKEN_RE = re.compile(
    r"(?=[a-z0-9<!?.\n])(?:[a-z]+(?:'[a-z]+)*|[0-9]+(?:[.,][0-9]+)*|<[a-z_]{1,20}>|!+|\?+|[.\n]+)"
)


def ascii_token_pattern() -> re.Pattern[str]:
    """The token pattern for text that is all ASCII (same matches as the full one there)."""
    return _ASCII_TOKEN_RE


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
    # All-ASCII text (a flag, no scan) can only hold the backtick of the apostrophes.
    if ("`" in text) if text.isascii() else any(ch in text for ch in _APOSTROPHE_CHARS):
        text = text.translate(_APOSTROPHES)
    text = text.lower()
    if "://" in text or "www." in text:
        text = _URL_RE.sub(" <url> ", text)
    if "@" in text and _EMAIL_DOMAIN_RE.search(text) is not None:
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
    return scan_normalised(normalise(text))


def scan_normalised(normalised: str) -> list[str]:
    """Split text already passed through :func:`normalise` into token strings."""
    if normalised.isascii():
        return _ASCII_TOKEN_RE.findall(normalised)
    return full_token_pattern().findall(normalised)


# Characters that are never part of a token and never change how the characters around
# them are split: replacing one by a space changes no token. Controls but the line break,
# and ASCII punctuation but the characters tokens use ("'", ".", ",", "!", "?", "<", ">",
# "_"). A hyphen joins words of other scripts ("naïve-word"), so it is only a separator in
# text that is all ASCII. Applied to the UTF-8 bytes: multi-byte characters never hold an
# ASCII byte, so they are untouched.
_SEPARATORS = bytes(c for c in range(32) if c != 10) + b'"#$%&()*+/:;=@[\\]^`{|}~\x7f'
_TO_SPACE = bytes.maketrans(_SEPARATORS, b" " * len(_SEPARATORS))
_TO_SPACE_ASCII = bytes.maketrans(_SEPARATORS + b"-", b" " * (len(_SEPARATORS) + 1))
# A comma is part of a token only between two digits ("1,000"); in text where no comma is,
# every comma is a separator too.
_TO_SPACE_COMMA = bytes.maketrans(_SEPARATORS + b",", b" " * (len(_SEPARATORS) + 1))
_TO_SPACE_ASCII_COMMA = bytes.maketrans(_SEPARATORS + b"-,", b" " * (len(_SEPARATORS) + 2))
# A comma or a dot between two digits (Unicode digits, as the token pattern's); each pattern
# starts with its literal, which the regular-expression engine finds by a fast scan.
_NUMBER_COMMA_RE = re.compile(r",(?<=\d,)(?=\d)")
_NUMBER_DOT_RE = re.compile(r"\.(?<=\d\.)(?=\d)")


def pieces_of(normalised: str, encoded: bytes | None = None) -> list[str]:
    """Split normalised text at whitespace into pieces whose tokens, in order, are its tokens.

    The token pattern never matches across whitespace except in a run of sentence ends
    (dots and line breaks), so the tokens of the pieces (each found by the pattern alone)
    are the tokens of the text, with one difference that changes no count: a line break becomes a
    ``.`` token of its own, and a run of sentence ends may come out as several (consecutive
    sentence ends close one sentence, and are not counted otherwise). Before splitting,
    separator characters become spaces, and so do commas, unless a comma stands between two
    digits somewhere in the text; then only ``", "`` loses its comma (a comma is only part
    of a token between two digits). Dots are spaced out, every one of them unless a dot
    stands between two digits somewhere in the text (a dot is a sentence end of its own
    everywhere but inside a number); then ``". "`` and ``".."`` only, also at the end of the
    text. A ``?`` or ``!`` is spaced out too when the text has no run of two (a run is one
    token). So most pieces are a single word.

    Parameters
    ----------
    normalised : str
        Output of :func:`normalise`.
    encoded : bytes, optional
        ``normalised.encode("utf-8", "surrogatepass")`` when the caller already has it.

    Returns
    -------
    list of str
        The pieces, in text order.
    """
    if encoded is None:
        encoded = normalised.encode("utf-8", "surrogatepass")
    # Separators are translated in the bytes; the commas with them unless one is in a number.
    number_comma = _NUMBER_COMMA_RE.search(normalised) is not None
    if normalised.isascii():
        table = _TO_SPACE_ASCII if number_comma else _TO_SPACE_ASCII_COMMA
        spaced = encoded.translate(table).decode("ascii")
    else:
        table = _TO_SPACE if number_comma else _TO_SPACE_COMMA
        spaced = encoded.translate(table).decode("utf-8", "surrogatepass")
    if "\n" in spaced:
        spaced = spaced.replace("\n", " . ")
    # A "?" or "!" is a run of its own when no two stand together: each becomes a piece.
    if "?" in spaced and "??" not in spaced:
        spaced = spaced.replace("?", " ? ")
    if "!" in spaced and "!!" not in spaced:
        spaced = spaced.replace("!", " ! ")
    number_dot = _NUMBER_DOT_RE.search(normalised) is not None
    if number_comma or number_dot:
        spaced += " "  # lets a last "," or "." come off its word too
    if number_comma:
        spaced = spaced.replace(", ", " ")
    if not number_dot:
        return spaced.replace(".", " . ").split()
    if ".." in spaced:
        spaced = spaced.replace("..", " .. ")
    return spaced.replace(". ", " . ").split()


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
