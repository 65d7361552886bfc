"""Profile aggregates as plain, msgpack-able data, and back.

:class:`~edge_client.text.features.TextCounts` holds only numbers (counts, category hits and
hashed n-gram counts keyed by 32-bit CRCs), so its stored form holds only numbers too:
scalars, the category vector as a list, and each hashed bag as two parallel lists of keys
(``int``) and counts (``float``), sorted by key so that equal counts encode to equal bytes.
No token, n-gram or text is ever part of it.

Examples
--------
>>> from edge_client.text.features import extract
>>> counts = extract("I compared both engines.")
>>> counts_from_dict(counts_to_dict(counts)).words == counts.words
True
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from edge_client.store.errors import StoreError
from edge_client.text.features import TextCounts
from edge_client.text.lexicon import CATEGORY_NAMES

__all__ = ["COUNTS_CODEC_VERSION", "SectionFormatError", "counts_from_dict", "counts_to_dict"]

COUNTS_CODEC_VERSION = 1
"""Version of the encoded form written by :func:`counts_to_dict`."""

_SCALARS = ("words", "sentences", "letters", "exclamations", "questions", "emoji")
_BAGS = ("unigrams", "bigrams")
_KEY_MAX = 2**32 - 1


class SectionFormatError(StoreError):
    """A stored section does not have the shape this version of the library writes.

    Messages name the section and the field, never a stored value.
    """


def counts_to_dict(counts: TextCounts) -> dict[str, Any]:
    """Encode running counts as a msgpack-able mapping of numbers only.

    Parameters
    ----------
    counts : TextCounts
        The counts to encode (not modified).

    Returns
    -------
    dict[str, Any]
        ``{"v": 1, "words": float, ..., "categories": [float] * 17,
        "unigram_keys": [int], "unigram_counts": [float], "bigram_keys": ...,
        "bigram_counts": ...}``.

    Raises
    ------
    SectionFormatError
        When a count is not finite or negative, or a hashed key is outside 0..2**32-1
        (such counts could not be decoded again).
    """
    encoded: dict[str, Any] = {"v": COUNTS_CODEC_VERSION}
    for name in _SCALARS:
        encoded[name] = _count(getattr(counts, name), "profile", name)
    categories = [float(x) for x in np.asarray(counts.categories, dtype=np.float64).tolist()]
    if len(categories) != len(CATEGORY_NAMES):
        raise SectionFormatError(
            f"section 'profile': field 'categories' has {len(categories)} entries, "
            f"expected {len(CATEGORY_NAMES)}"
        )
    encoded["categories"] = [_count(x, "profile", "categories") for x in categories]
    for bag_name in _BAGS:
        bag: dict[int, float] = getattr(counts, bag_name)
        keys = sorted(bag)
        for key in keys:
            _key(key, "profile", bag_name)
        singular = bag_name[:-1]
        encoded[f"{singular}_keys"] = [int(k) for k in keys]
        encoded[f"{singular}_counts"] = [_count(bag[k], "profile", bag_name) for k in keys]
    return encoded


def counts_from_dict(data: object, *, section: str = "profile") -> TextCounts:
    """Decode what :func:`counts_to_dict` wrote, checking every field.

    Parameters
    ----------
    data : object
        The stored mapping.
    section : str, default "profile"
        Section name used in error messages.

    Returns
    -------
    TextCounts
        Independent counts equal to the encoded ones.

    Raises
    ------
    SectionFormatError
        When ``data`` is not a mapping, has an unknown version, misses a field, or holds a
        value of the wrong type, a negative or non-finite count, a key outside
        0..2**32-1, parallel lists of different lengths, or a duplicate key.
    """
    if not isinstance(data, Mapping):
        raise SectionFormatError(f"section {section!r}: expected a mapping of counts")
    version = data.get("v")
    if version != COUNTS_CODEC_VERSION:
        raise SectionFormatError(
            f"section {section!r}: field 'v': unknown counts encoding "
            f"(this library reads version {COUNTS_CODEC_VERSION})"
        )
    scalars = {name: _count(_field(data, name, section), section, name) for name in _SCALARS}
    raw_categories = _list(data, "categories", section)
    if len(raw_categories) != len(CATEGORY_NAMES):
        raise SectionFormatError(
            f"section {section!r}: field 'categories' has {len(raw_categories)} entries, "
            f"expected {len(CATEGORY_NAMES)}"
        )
    categories = np.array(
        [_count(x, section, "categories") for x in raw_categories], dtype=np.float64
    )
    bags: dict[str, dict[int, float]] = {}
    for bag_name in _BAGS:
        singular = bag_name[:-1]
        keys = _list(data, f"{singular}_keys", section)
        values = _list(data, f"{singular}_counts", section)
        if len(keys) != len(values):
            raise SectionFormatError(
                f"section {section!r}: fields '{singular}_keys' and '{singular}_counts' "
                f"differ in length ({len(keys)} and {len(values)})"
            )
        bag = {
            _key(k, section, f"{singular}_keys"): _count(v, section, f"{singular}_counts")
            for k, v in zip(keys, values, strict=True)
        }
        if len(bag) != len(keys):
            raise SectionFormatError(
                f"section {section!r}: field '{singular}_keys' holds duplicate keys"
            )
        bags[bag_name] = bag
    return TextCounts(
        categories=categories, unigrams=bags["unigrams"], bigrams=bags["bigrams"], **scalars
    )


def _field(data: Mapping[str, Any], name: str, section: str) -> object:
    if name not in data:
        raise SectionFormatError(f"section {section!r}: field {name!r} is missing")
    return data[name]


def _list(data: Mapping[str, Any], name: str, section: str) -> list[object]:
    value = _field(data, name, section)
    if not isinstance(value, list):
        raise SectionFormatError(
            f"section {section!r}: field {name!r} must be a list, got {type(value).__name__}"
        )
    return value


def _count(value: object, section: str, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.floating):
        raise SectionFormatError(
            f"section {section!r}: field {name!r} must be a number, got {type(value).__name__}"
        )
    number = float(value)
    if not math.isfinite(number) or number < 0.0:
        raise SectionFormatError(
            f"section {section!r}: field {name!r} must be a finite count >= 0"
        )
    return number


def _key(value: object, section: str, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise SectionFormatError(
            f"section {section!r}: field {name!r} must hold integer hash keys, "
            f"got {type(value).__name__}"
        )
    key = int(value)
    if not 0 <= key <= _KEY_MAX:
        raise SectionFormatError(
            f"section {section!r}: field {name!r} holds a hash key outside 0..2**32-1"
        )
    return key
