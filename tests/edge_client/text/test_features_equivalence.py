"""The fast featurizer counts exactly what the featurizer before issue 13 counted.

``scripts/_featurizer_reference.py`` keeps the old ``extract`` unchanged; every count of the
shipped one (words, sentences, letters, categories, hashed unigrams and bigrams, script and
symbol counts) must be equal on the shipped samples, on hand-picked hostile strings and, when
``../shared/data`` is present, on thousands of real posts of every corpus.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edge_client.text import features
from edge_client.text.features import TextCounts, extract
from edge_client.text.hashing import count_hashes
from edge_client.text.lexicon import load_lexicon
from edge_client.text.tokenizer import full_token_pattern, normalise, scan_normalised
from edge_client.text.vocabulary import Vocabulary

REPO = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(REPO / "scripts"))
sys.path.insert(0, str(REPO))

from _featurizer_reference import extract_reference  # noqa: E402 (scripts/ is on sys.path now)

from models import data  # noqa: E402 (the repository root is on sys.path now)

SAMPLES = REPO / "edge_client" / "assets" / "samples"
DATA_MISSING = not (data.data_dir() / "mbti" / "users.jsonl").is_file()

HOSTILE = [
    "",
    "   \n\n ",
    "...!!!???\n",
    "Don't STOP me now!!! I'm having such a good time… really?!",
    "See https://example.com/a?b=c&d=e and mail me@example.org <url> <type> <not a tag>",
    "Café-bar naïve résumé, Straße und Übermut; ÉCOLE",
    "Мы пошли домой. Ελληνικά κείμενα! عربى نص",
    "我今天很高兴。日本語のテキストです！ ภาษาไทยสวัสดีครับ ສະບາຍດີ",
    "Emoji 😀😀 🎉 and ★ ☀ ⌚ ⬛ mixed with words 👍🏽",
    "def f(x): return {'a': [1, 2]} if x <= 3 else x ^ ~y | z & $w # _ * \\n",
    "Numbers 3.5, 1,000 and 2nd 42nd 1990s 3.14.15 and 007",
    "Lone surrogate \ud800 and NUL \x00 and bidi \u202e text",
    "it\u2019s they\u2018re `quoted` ´acute´ ʼmodifierʼ",
    "UPPER lower MiXeD. Sentences. End here",
    "tab\tseparated\r\nwindows lines\rold mac",
    "a" * 500 + " " + "word " * 200,
]


def same(a: TextCounts, b: TextCounts) -> bool:
    """Whether two counts are equal in every field (exactly, not approximately)."""
    scalars = (
        "words",
        "sentences",
        "letters",
        "exclamations",
        "questions",
        "emoji",
        "foreign_words",
        "symbols",
    )
    return (
        all(getattr(a, name) == getattr(b, name) for name in scalars)
        and np.array_equal(a.categories, b.categories)
        and a.unigrams == b.unigrams
        and a.bigrams == b.bigrams
    )


def mismatches(texts: Iterable[str]) -> list[str]:
    """Texts (shortened) whose counts differ between the two featurizers, with bigrams."""
    return [
        t[:80]
        for t in texts
        if not same(extract(t, bigrams=True), extract_reference(t, bigrams=True))
    ]


def sample_texts() -> list[str]:
    """Every text shipped in ``edge_client/assets/samples``."""
    texts = [path.read_text(encoding="utf-8") for path in sorted(SAMPLES.glob("*.txt"))]
    for name in ("posts.jsonl", "catalog.jsonl"):
        for line in (SAMPLES / name).read_text(encoding="utf-8").splitlines():
            if line.startswith("{"):
                item = json.loads(line)
                texts += [str(v) for v in item.values() if isinstance(v, str)]
    return texts


def test_shipped_samples_count_the_same() -> None:
    """Every shipped sample text (and every string field of the sample catalog) counts the same."""
    texts = sample_texts()
    assert len(texts) > 20
    assert mismatches(texts) == []
    assert mismatches(" ".join(texts[i : i + 3]) for i in range(len(texts))) == []


def test_hostile_strings_count_the_same() -> None:
    """Scripts without spaces, emoji, URLs, code, surrogates and odd breaks count the same."""
    assert mismatches(HOSTILE) == []
    assert mismatches([text.upper() for text in HOSTILE]) == []


def test_counts_survive_a_full_token_table(monkeypatch: pytest.MonkeyPatch) -> None:
    """When the token table is replaced (its size limit), counts do not change."""
    start = len(Vocabulary(load_lexicon()))  # the shipped common words come first
    monkeypatch.setattr(features, "_VOCABULARY_LIMIT", start + 5)
    texts = sample_texts() + HOSTILE
    assert mismatches(texts) == []
    assert len(features._vocabulary(load_lexicon())) <= start + 5 + 2 * max(len(t) for t in texts)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(max_codepoint=0x7F), max_size=200))
def test_ascii_pattern_splits_like_the_full_pattern(text: str) -> None:
    """On ASCII text the fast token pattern finds exactly what the full pattern finds."""
    normalised = normalise(text)
    assert scan_normalised(normalised) == full_token_pattern().findall(normalised)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_any_text_counts_the_same(text: str) -> None:
    """Arbitrary Unicode text counts the same in both featurizers."""
    assert same(extract(text, bigrams=True), extract_reference(text, bigrams=True))


@given(st.lists(st.integers(0, 2**32 - 1), max_size=60))
def test_count_hashes_counts_each_distinct_hash(values: list[int]) -> None:
    """``count_hashes`` gives the count of every distinct hash and nothing else."""
    counts = count_hashes(np.array(values, np.uint64))
    assert counts == {v: float(values.count(v)) for v in set(values)}


def real_texts(limit: int) -> list[str]:
    """Up to ``limit`` posts of each corpus (MBTI, Reddit, AG News, 20 Newsgroups)."""
    texts = [post for user in data.load_mbti()[:200] for post in user.posts][:limit]
    texts += [doc.text for doc in data.load_reddit("test")[:limit]]
    texts += [doc.text for doc in data.load_agnews("test")[:limit]]
    texts += [data.news_text(post) for post in data.load_news("test")[:limit]]
    return texts


@pytest.mark.data
@pytest.mark.skipif(DATA_MISSING, reason="needs ../shared/data (the MBTI and news corpora)")
def test_real_corpora_count_the_same() -> None:
    """Thousands of real posts of every corpus count the same; so do 300-word MBTI texts."""
    texts = real_texts(1500)
    assert len(texts) > 4000
    assert any(not t.isascii() for t in texts)
    assert mismatches(texts) == []
    users = data.load_mbti()[:150]
    assert mismatches(data.first_words(user.posts, 300) for user in users) == []


def test_tokens_outside_ascii_use_the_full_pattern() -> None:
    """Non-ASCII text is split by the full pattern (scripts without spaces, emoji, marks)."""
    text = normalise("Café 我今天 ภาษา 😀 naïve-word")
    assert scan_normalised(text) == full_token_pattern().findall(text)
    assert re.search("[^\x00-\x7f]", text)


def test_threads_sharing_the_token_table_count_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    """Threads that add new tokens to one table at once still count like the reference."""
    from concurrent.futures import ThreadPoolExecutor

    monkeypatch.setattr(features, "_VOCABULARIES", {})
    # New numbered tokens, and new words of letters only (each added in one step).
    words = [f"zq{chr(97 + i % 26)}{chr(97 + i // 26)}" for i in range(40)]
    texts = [
        f"{text} token{i} word{i % 7} {words[i]} {words[(i * 7) % 40]}"
        for i in range(40)
        for text in sample_texts()[:3]
    ]
    with ThreadPoolExecutor(max_workers=4) as pool:
        counted = list(pool.map(extract, texts))
    assert all(same(c, extract_reference(t)) for c, t in zip(counted, texts, strict=True))


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from([*"ab1 \n\t.,!?'-<>_:;\"()éя我😀…", "<url>", "3.5", "1,0", "don't"]),
        max_size=60,
    ).map("".join)
)
def test_punctuation_heavy_text_counts_the_same(text: str) -> None:
    """Text dense in the characters that split pieces (dots, commas, quotes) counts the same."""
    assert same(extract(text, bigrams=True), extract_reference(text, bigrams=True))


def test_split_whitespace_is_never_inside_a_token() -> None:
    """Every character ``str.split`` splits at but the line break is outside every token."""
    spaces = [chr(c) for c in range(0x110000) if not 0xD800 <= c < 0xE000 and chr(c).isspace()]
    assert len(spaces) > 20
    contexts = ("a{}a", "é{}é", "1{}1", "<a{}a>", "!{}!", ".{}.", "我{}我", "a'{}a", "é-{}é")
    for space in spaces:
        if space == "\n":
            continue
        for context in contexts:
            text = context.format(space)
            at = context.index("{}")
            assert all(
                not m.start() <= at < m.end() for m in full_token_pattern().finditer(text)
            ), (hex(ord(space)), context)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=80))
def test_every_token_splits_into_itself(text: str) -> None:
    """A token, alone, is one token: the table may use a token as a piece of its own."""
    for token in full_token_pattern().findall(normalise(text)):
        assert full_token_pattern().findall(token) == [token]


def test_prepared_unigrams_are_the_dict_as_arrays() -> None:
    """``extract_prepared``'s arrays give the same model input as converting the dict."""
    from edge_client.text.features import extract_prepared
    from edge_client.text.hashing import hashed_input, prepared_input

    for text in [*sample_texts()[:20], *HOSTILE]:
        counts, arrays = extract_prepared(text)
        assert list(zip(*(a.tolist() for a in arrays), strict=True)) == list(
            counts.unigrams.items()
        )
        fast, plain = prepared_input(*arrays), hashed_input([counts.unigrams])
        for name in ("keys", "counts", "values", "tagged"):
            mine, theirs = getattr(fast, name), getattr(plain, name)
            assert mine.dtype == theirs.dtype, name
            assert np.array_equal(mine, theirs), name


def test_new_words_are_described_as_the_general_split_describes_them() -> None:
    """A new piece of letters only, added in one step, gets the row the general path gives."""
    lexicon = load_lexicon()
    words = ["zqxvw", "unbelievabilityzz", "zzhe", "Qwerty", "theirzz", "aaaaaaaaaaaaaaaaaa"]
    fast, general = Vocabulary(lexicon), Vocabulary(lexicon)
    fast_rows = fast.rows(words).tolist()
    general_rows = [general._split(word) for word in words]
    assert len(fast) == len(general) and len(fast_rows) == len(words)
    assert general.rows(words).tolist() == fast_rows
    fast_items, general_items = list(fast.items()), list(general.items())
    assert fast_items == general_items
    for column in ("hashes", "kinds", "letters", "descriptions"):
        assert np.array_equal(getattr(fast, column), getattr(general, column)), column
    assert np.array_equal(fast.description_table, general.description_table)
    assert fast.characters == general.characters
    assert general_rows == [fast._pieces[word] for word in words]


def test_dots_commas_and_marks_count_the_same_either_way_they_are_spaced() -> None:
    """Dots, commas, ``?`` and ``!`` are spaced out in bulk only when safe: same counts."""
    tricky = [
        "e.g. u.s. o.o ph.d .how 1,a a,b 1.,2 1,.2 ,5 5, x,,y …. word.\nnext ... !.?. '.'"
        " what?! why? you! ?a!b <url>? it's!",
        "a,b,c. d.e.f, g..h,, i.\n\n.j ١, ٢ tri-type 9w8. <url>. that's.it,ok",
    ]
    for text in tricky:
        # As written (no comma or dot between digits, no run of marks), then with a number
        # holding a comma, a dot or both, or a run of "?" or "!" (the other way of spacing).
        for extra in ("", " 1,000", " 3.5", " 1,000.5", " ١,٢", " ١.٢", " why??", " wow!!"):
            variant = text + extra
            assert same(extract(variant, bigrams=True), extract_reference(variant, bigrams=True))


def test_every_piece_keeps_its_tokens_while_the_table_grows() -> None:
    """Tens of thousands of new pieces, written in batches, keep their own tokens' rows.

    Words, multi-token pieces and token-less pieces are numbered in batches as a profile
    numbers them, among shipped common words, until the token columns and the flat rows
    of pieces have grown several times; every piece's rows must still name the tokens the
    full pattern finds in it.
    """
    vocab = Vocabulary(load_lexicon())
    capacity = len(vocab.kinds)
    pieces = []
    for i in range(3 * capacity // 2):
        word = "zq" + "".join(chr(97 + (i // 26**k) % 26) for k in range(4))
        pieces += [word, f"{word}-{i}", f"{i}'{word}", ">", "the"] if i % 3 == 0 else [word]
    batches = [pieces[start : start + 700] for start in range(0, len(pieces), 700)]
    rows = np.concatenate([vocab.rows(batch) for batch in batches])
    assert len(vocab.kinds) >= 2 * capacity  # the columns grew
    names = {row: token for token, _hash, _kind, row in vocab.items()}
    pattern = full_token_pattern()
    expected = [token for piece in pieces for token in pattern.findall(piece)]
    assert [names[row] for row in rows.tolist()] == expected
    assert vocab.rows(pieces).tolist() == rows.tolist()  # the same rows when seen again
