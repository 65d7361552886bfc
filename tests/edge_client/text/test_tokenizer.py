"""Tests of the tokenizer on real-world text shapes."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from edge_client.text.tokenizer import TokenKind, iter_sentences, scan, tokenize


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
    """Accented and non-Latin words are single word tokens."""
    assert texts("Café naïve Straße москва 東京") == ["café", "naïve", "straße", "москва", "東京"]


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
