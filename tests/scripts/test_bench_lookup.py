"""The piece-lookup benchmark's routes give the shipped piece numbers.

Its run on the corpora is smoke-tested with the other benchmarks (``test_benchmarks.py``).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

REPO = Path(__file__).resolve().parents[2]
SCRIPTS = REPO / "scripts"
sys.path.insert(0, str(SCRIPTS))

from _lookup_routes import ArrayLookup, dictionary_numbers, piece_hash  # noqa: E402 (scripts/ is on sys.path now)

PIECE = st.text(
    alphabet=st.characters(blacklist_categories=("Zs", "Zl", "Zp", "Cc", "Cs")), min_size=1
).filter(lambda piece: not any(ch.isspace() for ch in piece))


@settings(max_examples=200, deadline=None)
@given(st.lists(PIECE, min_size=1, max_size=80, unique=True), st.data())
def test_array_lookup_gives_the_dictionary_numbers(pieces: list[str], draw: st.DataObject) -> None:
    """Any pieces (any script, punctuation, emoji) get the numbers the dictionary gives."""
    numbers = {piece: 1000 + i for i, piece in enumerate(pieces)}
    line = " ".join(draw.draw(st.lists(st.sampled_from(pieces), min_size=1, max_size=60)))
    expected = dictionary_numbers(numbers, line)
    assert ArrayLookup(numbers).numbers(line).tolist() == expected.tolist()


def test_a_crowded_table_probes_to_every_piece() -> None:
    """In a table of 512 slots for 400 pieces, homes collide and probing finds every one."""
    pieces = [f"w{i}" for i in range(400)]
    numbers = {piece: i for i, piece in enumerate(pieces)}
    table = ArrayLookup(numbers, bits=9)
    line = " ".join(reversed(pieces))
    assert table.numbers(line).tolist() == list(range(399, -1, -1))
    with pytest.raises(ValueError, match="cannot hold"):
        ArrayLookup(numbers, bits=8)


def test_array_lookup_refuses_a_piece_it_does_not_hold() -> None:
    """A piece outside the table raises instead of returning another piece's number."""
    table = ArrayLookup({"known": 0, "also": 1}, bits=4)
    with pytest.raises(KeyError):
        table.numbers("known unknown")


def test_span_hashes_are_the_polynomial_hash_of_each_piece() -> None:
    """The vectorised span hashes equal the hash of each piece's UTF-8 bytes."""
    pieces = ["a", "naïve", "我今天", "😀!", "x" * 300]
    table = ArrayLookup({piece: i for i, piece in enumerate(pieces)})
    expected = [piece_hash(piece.encode("utf-8")) for piece in pieces]
    assert table.hashes(" ".join(pieces)).tolist() == expected
    assert np.unique(table.hashes(" ".join(pieces))).size == len(pieces)
