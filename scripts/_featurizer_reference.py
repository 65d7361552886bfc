"""The featurizer as it was before issue 13: the oracle the fast one is tested against.

:func:`extract_reference` is ``edge_client.text.features.extract`` at commit ``c8a1605``
(one cached Python lookup per token, then NumPy), kept unchanged with its own token cache
(only the unchanged script test ``is_latin`` is shared).
``tests/edge_client/text/test_features_equivalence.py`` checks that the shipped featurizer
gives exactly the same counts on real and shipped texts, and ``scripts/bench_speed.py``
times both side by side. Not a public API; nothing in ``edge_client`` imports it.
"""

from __future__ import annotations

import re
from itertools import chain

import numpy as np

from edge_client.text.features import TextCounts
from edge_client.text.hashing import count_bigrams, count_unigrams, hash_token
from edge_client.text.lexicon import CATEGORY_NAMES, Lexicon, load_lexicon
from edge_client.text.tokenizer import TokenKind, full_token_pattern, kind_of, normalise
from edge_client.text.vocabulary import is_latin  # the script test, unchanged since c8a1605

__all__ = ["extract_reference"]

_WORD, _FOREIGN, _EMOJI, _OTHER, _END, _EXCL, _QUEST = 0, 1, 2, 3, 4, 5, 6
_SYMBOL_RE = re.compile(r"[{}\[\]()<>;=|&\\^~$#_*]")
_BREAK = 1 << 32
_TokenInfo = tuple[int, tuple[int, ...], int, int]
_CACHES: dict[int, dict[str, _TokenInfo]] = {}
_CACHE_LIMIT = 100_000


def extract_reference(
    text: str, lexicon: Lexicon | None = None, *, bigrams: bool = False
) -> TextCounts:
    """Count the signals in one text, the pre-issue-13 way (same contract as ``extract``)."""
    lex = lexicon if lexicon is not None else load_lexicon()
    cache = _CACHES.get(id(lex))
    if cache is None or len(cache) > _CACHE_LIMIT:
        cache = _CACHES[id(lex)] = {}
    get = cache.get
    normalised = normalise(text)
    symbols = float(len(_SYMBOL_RE.findall(normalised)))
    tokens = full_token_pattern().findall(normalised)
    infos = [get(tok) or _token_info(lex, cache, tok) for tok in tokens]
    if not infos:
        return TextCounts(symbols=symbols)
    hashes, cat_lists, kinds, letters = zip(*infos, strict=True)
    code = np.array(kinds, np.int8)
    ends = code >= _END
    sentences = int(np.count_nonzero(ends[1:] & ~ends[:-1])) + int(not ends[-1])
    hashed = code != _END
    seq = np.array(hashes, np.uint64)
    seq[~hashed] = _BREAK
    unigrams = count_unigrams(seq, _BREAK)
    pairs: dict[int, float] = {}
    if bigrams:
        within = seq.copy()
        within[ends] = _BREAK
        pairs = count_bigrams(within, _BREAK)
    categories = np.bincount(
        np.fromiter(chain.from_iterable(cat_lists), np.intp), minlength=len(CATEGORY_NAMES)
    ).astype(np.float64)
    foreign = int(np.count_nonzero(code == _FOREIGN))
    others = int(np.count_nonzero(code == _OTHER))
    return TextCounts(
        words=float(np.count_nonzero(code == _WORD) + foreign),
        sentences=float(sentences),
        letters=float(sum(letters)),
        exclamations=float(np.count_nonzero(code == _EXCL)),
        questions=float(np.count_nonzero(code == _QUEST)),
        emoji=float(np.count_nonzero(code == _EMOJI)),
        categories=categories,
        unigrams=unigrams,
        bigrams=pairs,
        foreign_words=float(foreign),
        symbols=max(0.0, symbols - 2.0 * others),
    )


def _token_info(lex: Lexicon, cache: dict[str, _TokenInfo], tok: str) -> _TokenInfo:
    kind = kind_of(tok)
    if kind is TokenKind.SENTENCE_END:
        info: _TokenInfo = (_BREAK, (), _END, 0)
    elif kind is TokenKind.EXCLAMATION:
        info = (hash_token("!"), (), _EXCL, 0)
    elif kind is TokenKind.QUESTION:
        info = (hash_token("?"), (), _QUEST, 0)
    elif kind is TokenKind.WORD:
        code = _WORD if is_latin(tok[0]) else _FOREIGN
        info = (hash_token(tok), lex.lookup(tok), code, len(tok))
    elif kind is TokenKind.NUMBER:
        info = (hash_token(tok), lex.lookup(tok), _WORD, 0)
    elif kind is TokenKind.EMOJI:
        info = (hash_token(tok), (), _EMOJI, 0)
    else:
        info = (hash_token(tok), (), _OTHER, 0)
    cache[tok] = info
    return info
