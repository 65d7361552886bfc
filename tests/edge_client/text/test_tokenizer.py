"""Tests of the tokenizer on real-world text shapes."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from edge_client.text.tokenizer import TokenKind, iter_sentences, normalise, scan, tokenize


def texts(s: str) -> list[str]:
    """Token texts of ``s``."""
    return [t.text for t in tokenize(s)]


def test_empty_and_whitespace_give_no_tokens() -> None:
    """Empty and blank input tokenizes to nothing, without error."""
    assert tokenize("") == []
    assert tokenize("   \t ") == []


def test_contractions_stay_whole_and_apostrophes_are_normalised() -> None:
    """Typographic apostrophes map to ' and contractions stay one token."""
    assert texts("I don\u2019t know, it's fine") == ["i", "don't", "know", "it's", "fine"]


def test_urls_and_emails_become_placeholders() -> None:
    """Addresses never reach a token: URLs and e-mails become placeholders."""
    out = texts("see https://example.org/a?b=1 or www.x.io, mail me@host.example.com")
    assert out == ["see", "<url>", "or", "<url>", "mail", "<email>"]
    assert all("example" not in t for t in out)


def test_existing_placeholders_are_kept() -> None:
    """Placeholders such as <type> in the data stay single tokens."""
    assert texts("as an <type> I") == ["as", "an", "<type>", "i"]


def test_emoji_are_tokens_of_their_own() -> None:
    """Emoji split from words and are classified as emoji."""
    tokens = tokenize("great\U0001f600\U0001f44d")
    assert [t.text for t in tokens] == ["great", "\U0001f600", "\U0001f44d"]
    assert [t.kind for t in tokens][1:] == [TokenKind.EMOJI, TokenKind.EMOJI]


def test_non_ascii_words_are_whole() -> None:
    """Accented and other space-separated words are single tokens; CJK is one per character."""
    expected = ["café", "naïve", "straße", "москва", "東", "京"]
    assert texts("Café naïve Straße москва 東京") == expected


def test_scripts_without_spaces_count_one_word_per_character() -> None:
    """Chinese, Japanese and Thai split per character; marks stay with their letter."""
    assert texts("我喜欢打篮球。") == ["我", "喜", "欢", "打", "篮", "球"]
    assert texts("日本語のテキスト") == ["日", "本", "語", "の", "テ", "キ", "ス", "ト"]
    assert texts("ที่นี่") == ["ที่", "นี่"]  # tone and vowel marks attach to the consonant
    assert texts("abc中文def 한국어") == ["abc", "中", "文", "def", "한국어"]  # Hangul has spaces
    assert all(t.kind is TokenKind.WORD for t in tokenize("我喜欢ภาษา"))


def test_no_space_classes_hold_letters_and_marks_only() -> None:
    """Every character of the letter class is a letter, every mark a combining mark."""
    import re
    import unicodedata

    from edge_client.text.tokenizer import NO_SPACE_LETTERS, NO_SPACE_MARKS

    def chars(ranges: str) -> list[str]:
        spans = re.findall(r"(.)(?:-(.))?", ranges)
        return [chr(c) for a, b in spans for c in range(ord(a), ord(b or a) + 1)]

    letters = chars(NO_SPACE_LETTERS)
    assert len(letters) > 90_000  # the CJK ideograph blocks are in
    assert all(unicodedata.category(c).startswith("L") for c in letters)
    assert all(unicodedata.category(c) in ("Mn", "Mc") for c in chars(NO_SPACE_MARKS))


def test_numbers_and_punctuation_kinds() -> None:
    """Numbers keep their separators; ! ? and . runs are classified."""
    tokens = tokenize("It costs 1,000.50 dollars!!! Really?? Yes...")
    kinds = [t.kind for t in tokens]
    assert tokens[2].text == "1,000.50" and kinds[2] is TokenKind.NUMBER
    assert TokenKind.EXCLAMATION in kinds and TokenKind.QUESTION in kinds
    assert kinds[-1] is TokenKind.SENTENCE_END


def test_sentences_split_at_enders_and_line_breaks() -> None:
    """Sentences end at . ! ? and line breaks; empty sentences are dropped."""
    sentences = iter_sentences(tokenize("One two. Three!\nFour\n\nfive six"))
    assert [[t.text for t in s] for s in sentences] == [
        ["one", "two"],
        ["three"],
        ["four"],
        ["five", "six"],
    ]


@given(st.text())
def test_any_string_tokenizes(text: str) -> None:
    """Arbitrary Unicode never raises and gives non-empty tokens."""
    assert all(tok for tok in scan(text))


@given(
    st.lists(
        st.sampled_from([*"ab1_-.+@ \n", "é", "我", "@name", "x@y.z", "a.b@c-d.e", "@."]),
        max_size=40,
    ).map("".join)
)
def test_email_precheck_masks_exactly_what_the_pattern_masks(text: str) -> None:
    """Text the "@domain." scan skips has no e-mail match: masking is unchanged by it."""
    from edge_client.text import tokenizer

    lowered = text.lower()
    masked = tokenizer._EMAIL_RE.sub(" <email> ", lowered)
    if tokenizer._EMAIL_DOMAIN_RE.search(lowered) is None:
        assert masked == lowered
    assert normalise(text) == masked
