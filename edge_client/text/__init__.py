"""Text processing for the edge client: tokens, word categories, hashed n-grams, features."""

from __future__ import annotations

from edge_client.text.features import DENSE_FEATURE_NAMES, TextCounts, cdi, dense_features, extract
from edge_client.text.lexicon import CATEGORY_NAMES, Lexicon, load_lexicon
from edge_client.text.tokenizer import Token, TokenKind, tokenize

__all__ = [
    "CATEGORY_NAMES",
    "DENSE_FEATURE_NAMES",
    "Lexicon",
    "TextCounts",
    "Token",
    "TokenKind",
    "cdi",
    "dense_features",
    "extract",
    "load_lexicon",
    "tokenize",
]
