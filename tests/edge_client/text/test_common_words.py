"""The shipped table of common words: exact, bounded, verified, and only used where it fits."""

from __future__ import annotations

import sys
import zlib
from pathlib import Path

import numpy as np
import pytest

from edge_client.packaged import asset_path
from edge_client.text import common_words
from edge_client.text.common_words import (
    PACKAGED_SHA256,
    CommonWords,
    CommonWordsError,
    encode_common_words,
    load_common_words,
    parse_common_words,
)
from edge_client.text.features import extract
from edge_client.text.lexicon import CATEGORY_NAMES, Lexicon, load_lexicon
from edge_client.text.tokenizer import ascii_token_pattern
from edge_client.text.vocabulary import Vocabulary

REPO = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(REPO / "scripts"))
sys.path.insert(0, str(REPO))

from _featurizer_reference import extract_reference  # noqa: E402 (scripts/ is on sys.path now)

from models import data  # noqa: E402 (the repository root is on sys.path now)

PACKAGED = asset_path("vocabulary", "common-words.bin")


def test_packaged_file_matches_its_recorded_hash() -> None:
    """The packaged file is the one recorded in PACKAGED_SHA256 (rebuild: update the value)."""
    import hashlib

    digest = hashlib.sha256(PACKAGED.read_bytes()).hexdigest()
    assert digest == PACKAGED_SHA256, (
        f"edge_client/assets/vocabulary/common-words.bin has SHA-256 {digest}: after "
        "`python -m models.vocabulary`, record it in edge_client.text.common_words.PACKAGED_SHA256"
    )


def test_every_entry_is_what_a_fresh_description_gives() -> None:
    """Each word's hash is its CRC-32 and its categories are the packaged lexicon's."""
    table = load_common_words()
    lexicon = load_lexicon()
    assert table.lexicon_sha256 == lexicon.source_sha256
    assert len(table.words) > 10_000
    assert len(set(table.words)) == len(table.words)
    sets = table.category_tuples()
    for word, crc, number in zip(
        table.words, table.hashes.tolist(), table.category_sets.tolist(), strict=True
    ):
        assert ascii_token_pattern().findall(word) == [word]
        assert crc == zlib.crc32(word.encode())
        assert sets[number] == lexicon.match(word), word


def test_round_trip_and_hostile_files_are_refused() -> None:
    """Encoding then parsing gives the table back; damaged files raise, naming the file."""
    table = CommonWords(
        ("the", "because"),
        np.array([zlib.crc32(b"the"), zlib.crc32(b"because")], np.uint32),
        np.array([0, 1], np.uint16),
        np.eye(2, len(CATEGORY_NAMES), dtype=np.uint8),
        "ab" * 32,
    )
    good = encode_common_words(table)
    back = parse_common_words(good, "t.bin")
    assert back.words == table.words
    assert back.hashes.tolist() == table.hashes.tolist()
    assert back.category_tuples() == [(0,), (1,)]
    text_at = len(good) - len(b"the\nbecause")
    sets_at = len(common_words.MAGIC) + 12 + 32
    hostile = {
        "magic": b"x" + good[1:],
        "truncated": good[:-1],
        "longer": good + b"x",
        "cell": good[:sets_at] + b"\x02" + good[sets_at + 1 :],
        "set number": good[: text_at - 2] + b"\x05\x00" + good[text_at:],
        "not ASCII": good[:text_at] + "thé\nbecaus".encode("latin-1") + good[-1:],
        "uppercase": good[:text_at] + b"The" + good[text_at + 3 :],
        "empty word": good[:text_at] + b"the\n\necaus" + good[-1:],
        "header": good[: len(common_words.MAGIC)] + b"\xff" * 12 + good[sets_at:],
    }
    for name, damaged in hostile.items():
        with pytest.raises(CommonWordsError, match=r"^t\.bin: "):
            parse_common_words(damaged, "t.bin")
        assert name


def test_a_damaged_packaged_file_is_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Bytes that are not the recorded ones raise CommonWordsError instead of being used."""
    folder = tmp_path / "vocabulary"
    folder.mkdir()
    damaged = bytearray(PACKAGED.read_bytes())
    damaged[-2] ^= 1
    (folder / "common-words.bin").write_bytes(bytes(damaged))
    monkeypatch.setattr(common_words, "asset_path", tmp_path.joinpath)
    load_common_words.cache_clear()
    try:
        with pytest.raises(CommonWordsError, match="not the recorded"):
            load_common_words()
    finally:
        load_common_words.cache_clear()


def test_another_lexicon_starts_without_the_common_words() -> None:
    """A lexicon other than the one the table was computed with gets an empty table."""
    packaged = load_lexicon()
    own = Lexicon({name: packaged.words(name) for name in CATEGORY_NAMES})
    assert own.source_sha256 is None
    assert len(Vocabulary(own)) < 10 < len(Vocabulary(packaged)) - len(load_common_words().words)
    text = "Because I think the results are certainly better, we never doubted it."
    ours, reference = extract(text, own), extract_reference(text, own)
    assert ours.unigrams == reference.unigrams
    assert ours.categories.tolist() == reference.categories.tolist()


@pytest.mark.data
@pytest.mark.skipif(
    not (data.data_dir() / "reddit-top2013" / "train.jsonl").is_file(),
    reason="needs ../shared/data/reddit-top2013 to rebuild the table",
)
def test_rebuild_is_byte_identical(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``python -m models.vocabulary`` rebuilds exactly the packaged bytes and card."""
    from models.vocabulary import main

    assert main(["--out", str(tmp_path)]) == 0
    assert (tmp_path / "common-words.bin").read_bytes() == PACKAGED.read_bytes()
    card = asset_path("vocabulary", "README.md").read_text(encoding="utf-8")
    assert (tmp_path / "README.md").read_text(encoding="utf-8") == card
    assert PACKAGED_SHA256 in capsys.readouterr().out
