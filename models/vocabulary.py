"""Build the featurizer's shipped table of common words from reddit-top2013's training posts.

Usage (from the repository root; reads ``../shared/data/reddit-top2013/train.jsonl``)::

    python -m models.vocabulary

Writes ``edge_client/assets/vocabulary/common-words.bin`` (format:
:mod:`edge_client.text.common_words`) and its card ``README.md``: every lowercase ASCII word
(letters only) that at least :data:`MIN_POSTS` training posts use, most used first, with its
CRC-32 and its categories in the packaged lexicon. reddit-top2013 is public domain (ODC PDDL
1.0). Only words ship, never text, and no word fewer than ten posts used. The output is
deterministic, so a rebuild gives the same bytes; it prints the SHA-256 to record in
``edge_client.text.common_words.PACKAGED_SHA256``.
"""

from __future__ import annotations

import argparse
import sys
import zlib
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from edge_client.digest import sha256
from edge_client.text.common_words import CommonWords, encode_common_words
from edge_client.text.lexicon import CATEGORY_NAMES, load_lexicon
from edge_client.text.tokenizer import scan
from models.data import load_reddit

__all__ = ["MIN_POSTS", "build", "main"]

OUT = Path(__file__).resolve().parent.parent / "edge_client" / "assets" / "vocabulary"
MIN_POSTS = 10
"""A word ships only if at least this many training posts use it."""


def build(texts: Sequence[str]) -> CommonWords:
    """The common words of ``texts`` with their hashes and packaged-lexicon categories."""
    used: Counter[str] = Counter()
    for text in texts:
        used.update({t for t in scan(text) if t.isascii() and t.isalpha() and len(t) <= 64})
    words = sorted((w for w, n in used.items() if n >= MIN_POSTS), key=lambda w: (-used[w], w))
    lexicon = load_lexicon()
    assert lexicon.source_sha256 is not None  # the packaged lexicon is read from its folder
    sets: dict[tuple[int, ...], int] = {}
    numbers = [sets.setdefault(lexicon.match(w), len(sets)) for w in words]
    table = np.zeros((len(sets), len(CATEGORY_NAMES)), np.uint8)
    for categories, row in sets.items():
        table[row, list(categories)] = 1
    return CommonWords(
        tuple(words),
        np.array([zlib.crc32(w.encode()) for w in words], np.uint32),
        np.array(numbers, np.uint16),
        table,
        lexicon.source_sha256,
    )


def card(table: CommonWords, posts: int, digest: str) -> str:
    """The provenance card (``README.md``) of the built file."""
    return f"""# common-words.bin — the featurizer's shipped table of common words

What it is: {len(table.words):,} lowercase ASCII words (letters only), each with its CRC-32
hash and its categories in the packaged lexicon (`edge_client/assets/lexicons`), so the
on-device featurizer starts with them already described instead of describing each one the
first time a person writes it. It changes no count: a test checks every entry against a
fresh description, and the featurizer uses the table only with the lexicon it was computed
with (its SHA-256 is in the file).

- Source: the training split of reddit-top2013 ({posts:,} posts; public domain, ODC PDDL
  1.0), read in place from `../shared/data`. Only words ship, never text.
- Selection: every word at least {MIN_POSTS} posts use, most used first (ties
  alphabetical). Words of fewer posts, words with digits or apostrophes and anything
  longer than 64 letters are left out.
- {len(table.categories)} distinct category sets; format in
  `edge_client/text/common_words.py`.
- SHA-256: `{digest}` (recorded in `edge_client.text.common_words.PACKAGED_SHA256`).
- Rebuild (byte-identical): `python -m models.vocabulary`.
"""


def main(argv: Sequence[str] | None = None) -> int:
    """Build the table and its card; print the SHA-256 to record."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=OUT, help="output folder")
    args = parser.parse_args(argv)
    texts = [doc.text for doc in load_reddit("train")]
    table = build(texts)
    data = encode_common_words(table)
    digest = sha256(data).hexdigest()
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "common-words.bin").write_bytes(data)
    (args.out / "README.md").write_text(card(table, len(texts), digest), encoding="utf-8")
    print(f"{len(table.words)} words, {len(data):,} bytes, SHA-256 {digest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
