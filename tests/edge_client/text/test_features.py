"""Tests of running counts, dense features and the CDI."""

from __future__ import annotations

import numpy as np
import pytest

from edge_client.text.features import (
    DENSE_FEATURE_NAMES,
    TextCounts,
    cdi,
    dense_features,
    extract,
    token_names,
)
from edge_client.text.hashing import hash_token

POSTS = [
    "I really don't think we should go. It's too far!",
    "The report compares the cost of the two engines in detail.",
    "Honestly? I love this song so much \U0001f60d",
    "Check https://example.com for the schedule of the meeting.",
]


def test_many_short_texts_equal_one_long_text() -> None:
    """Counts are additive: posts observed one by one equal the same posts as one text."""
    acc = TextCounts()
    for post in POSTS:
        acc.add(extract(post, bigrams=True))
    whole = extract("\n".join(POSTS), bigrams=True)
    assert whole.bigrams
    assert acc.words == whole.words and acc.sentences == whole.sentences
    assert acc.unigrams == whole.unigrams and acc.bigrams == whole.bigrams
    assert np.allclose(dense_features(acc), dense_features(whole))


def test_empty_text_has_no_counts() -> None:
    """Empty text gives zero counts and the neutral CDI of 30."""
    c = extract("")
    assert c.words == 0 and not c.unigrams
    assert cdi(c) == 30.0
    assert dense_features(c)[:-1].sum() == 0


def test_category_percentages() -> None:
    """Articles, negations and pronouns are counted as percent of words."""
    c = extract("The cat is not a dog")
    feats = dict(zip(DENSE_FEATURE_NAMES, dense_features(c).tolist(), strict=True))
    assert feats["pct_article"] == pytest.approx(2 / 6 * 100)
    assert feats["pct_negate"] == pytest.approx(1 / 6 * 100)


def test_cdi_formula() -> None:
    """CDI = 30 + article + prep - ppron - ipron - auxverb - conj - adverb - negate."""
    c = extract("the report of the committee")  # article 2, prep 1 of 5 words
    assert cdi(c) == pytest.approx(30 + 40 + 20)
    assert cdi(extract("i really do not know")) < 30


def test_stylometrics() -> None:
    """Exclamations, questions and emoji are counted per 100 words."""
    c = extract("Wow! Really? Yes \U0001f600")
    feats = dict(zip(DENSE_FEATURE_NAMES, dense_features(c).tolist(), strict=True))
    assert c.exclamations == 1 and c.questions == 1 and c.emoji == 1
    assert feats["exclamations"] == pytest.approx(100 / 3)


def test_decay_scales_and_prunes() -> None:
    """Decay multiplies counts and drops negligible hashed counts."""
    c = extract("alpha beta gamma")
    c.scale(0.5)
    assert c.words == 1.5
    c.scale(0.001)
    assert not c.unigrams
    with pytest.raises(ValueError, match="decay factor"):
        c.scale(1.5)


def test_token_names_name_seen_words_only() -> None:
    """Hashes of words seen in this process are named; unknown hashes are not."""
    extract("zebrafish migrate")
    names = token_names([hash_token("zebrafish"), 12345])
    assert names == {hash_token("zebrafish"): "zebrafish"}


def test_words_in_other_scripts_and_code_symbols_are_counted() -> None:
    """Non-Latin words count as words and as foreign words; code symbols are counted."""
    c = extract("我喜欢打篮球 and москва")
    assert c.words == 8 and c.foreign_words == 7
    code = extract("def f(x): return {'a': x[0]} # note <url>")
    assert code.symbols == 7  # ( ) { } [ ] #; the placeholder's < > are not counted
    assert extract("Plain English, no marks at all.").symbols == 0
    acc = extract("我喜欢")
    acc.add(extract("f(x);"))
    assert acc.foreign_words == 3 and acc.symbols == 3
    acc.scale(0.5)
    assert acc.foreign_words == 1.5 and acc.symbols == 1.5


# SHA-256 of the counts of fixed English texts (the bundled samples and a few edge cases),
# computed with the tokenizer as it was before scripts without spaces were split per
# character: English counts and hashes must never change (a rewrite of the featurizer for
# speed is checked against the same value).
ENGLISH_COUNTS_SHA256 = "a7e47424f200c620fc306da28897f41fdd5de444e3820da6fcdb7f2946e979ae"


def _fingerprint(texts: list[str]) -> str:
    import hashlib
    import json

    digest = hashlib.sha256()
    for text in texts:
        c = extract(text, bigrams=True)
        row: list[object] = [c.words, c.sentences, c.letters, c.exclamations, c.questions]
        row += [c.emoji, c.categories.tolist(), sorted(c.unigrams.items())]
        row += [sorted(c.bigrams.items())]
        digest.update(json.dumps(row).encode())
    return digest.hexdigest()


def test_english_counts_and_hashes_are_unchanged() -> None:
    """Counts and hashes of English text are byte for byte those of the earlier tokenizer."""
    import json
    from importlib import resources

    samples = resources.files("edge_client") / "assets" / "samples"
    texts = [
        samples.joinpath(n).read_text() for n in ("analytical_review.txt", "emotional_story.txt")
    ]
    texts += [
        json.loads(line)["text"]
        for line in samples.joinpath("posts.jsonl").read_text().splitlines()
    ]
    texts += [
        "I don't know… see https://x.io 😀!",
        "It costs 1,000.50 dollars!!! Really?? Yes...",
        "Café naïve Straße, (parentheses) [brackets] {braces} a_b x=1; y*2 #tag $5 & more | "
        "pipe ~ ^ \\ <type> <url>",
    ]
    assert _fingerprint(texts) == ENGLISH_COUNTS_SHA256
