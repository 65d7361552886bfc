"""Tests for the psycholinguistic word lists and their loader."""

from __future__ import annotations

import pathlib
import shutil
from importlib import resources

import pytest

from edge_client.errors import EdgeProfilerError
from edge_client.text import lexicon as lexicon_module
from edge_client.text.lexicon import CATEGORY_NAMES, Lexicon, LexiconError, load_lexicon

PACKAGED = pathlib.Path(lexicon_module.__file__).resolve().parents[1] / "assets" / "lexicons"
CLOSED_CLASSES = (
    "article", "prep", "ppron", "ipron", "auxverb", "conj", "negate", "number", "quant",
)  # fmt: skip
AFFECT_HEDGES = frozenset({"kind", "pretty", "well"})


def categories(token: str) -> set[str]:
    """Names of the categories the packaged lexicon puts a token in."""
    return {CATEGORY_NAMES[i] for i in load_lexicon().lookup(token)}


@pytest.fixture
def lexicon_copy(tmp_path: pathlib.Path) -> pathlib.Path:
    """Copy the packaged lexicon folder somewhere writable."""
    target = tmp_path / "lexicons"
    shutil.copytree(PACKAGED, target)
    return target


def test_category_names_are_the_seventeen_documented() -> None:
    """The category tuple lists the CDI classes, affect, cognition, number and quant once each."""
    assert len(CATEGORY_NAMES) == 17
    assert len(set(CATEGORY_NAMES)) == 17
    assert CATEGORY_NAMES[:8] == (
        "article", "prep", "ppron", "ipron", "auxverb", "conj", "adverb", "negate",
    )  # fmt: skip


@pytest.mark.parametrize("category", CATEGORY_NAMES)
def test_every_category_has_entries(category: str) -> None:
    """Every packaged category list holds at least one entry."""
    assert load_lexicon().words(category)


@pytest.mark.parametrize(
    ("token", "category"),
    [
        ("the", "article"),
        ("a", "article"),
        ("of", "prep"),
        ("through", "prep"),
        ("i", "ppron"),
        ("they're", "ppron"),
        ("y'all", "ppron"),
        ("it", "ipron"),
        ("anything", "ipron"),
        ("would", "auxverb"),
        ("it's", "auxverb"),
        ("and", "conj"),
        ("although", "conj"),
        ("really", "adverb"),
        ("very", "adverb"),
        ("not", "negate"),
        ("never", "negate"),
        ("don't", "negate"),
        ("won't", "negate"),
        ("shouldn't", "negate"),
        ("because", "cause"),
        ("effects", "cause"),
        ("think", "insight"),
        ("realized", "insight"),
        ("always", "certain"),
        ("definitely", "certain"),
        ("maybe", "tentat"),
        ("perhaps", "tentat"),
        ("should", "discrep"),
        ("wanted", "discrep"),
        ("seven", "number"),
        ("twenty-three", "number"),
        ("thousands", "number"),
        ("first", "number"),
        ("many", "quant"),
        ("lots", "quant"),
        ("love", "posemo"),
        ("hate", "negemo"),
    ],
)
def test_known_words_land_in_their_category(token: str, category: str) -> None:
    """Common words are found in the category a linguist would put them in."""
    assert category in categories(token)


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        ("don't", {"auxverb", "negate"}),
        ("i'm", {"ppron", "auxverb"}),
        ("can't", {"auxverb", "negate"}),
    ],
)
def test_contractions_count_in_each_class_they_contain(token: str, expected: set[str]) -> None:
    """A whole contraction counts for every function-word class it is made of."""
    assert expected <= categories(token)


@pytest.mark.parametrize("token", ["42", "3.5", "1,000", "2nd", "1990s"])
def test_digit_tokens_are_numbers(token: str) -> None:
    """Digit tokens count as number even though no list contains them."""
    assert categories(token) == {"number"}


@pytest.mark.parametrize("token", ["zxqv", "table", "42abc", "", "<url>"])
def test_unknown_tokens_return_empty_tuple(token: str) -> None:
    """Tokens in no list (and not digit tokens) get the empty tuple."""
    assert load_lexicon().lookup(token) == ()


@pytest.mark.parametrize(
    ("token", "category"),
    [("wonderful", "insight"), ("inferior", "insight"), ("affection", "cause"),
     ("doubtless", "tentat"), ("needle", "discrep"), ("fortune", "number")],
)  # fmt: skip
def test_spelled_out_forms_keep_unrelated_words_out(token: str, category: str) -> None:
    """Words sharing a prefix with a category's stems are not swept into that category."""
    assert category not in categories(token)


def test_lookup_returns_sorted_indices_and_is_stable_across_cache_clears() -> None:
    """Lookups give sorted indices and the same answer after the bounded cache is cleared."""
    lex = Lexicon({name: load_lexicon().words(name) for name in CATEGORY_NAMES}, cache_size=2)
    tokens = ["don't", "realized", "42", "the", "zxqv", "don't", "realized"]
    first = [lex.lookup(t) for t in tokens]
    again = [lex.lookup(t) for t in reversed(tokens)]
    assert first == list(reversed(again))
    assert all(list(r) == sorted(set(r)) for r in first)
    assert first[0] == load_lexicon().lookup("don't")
    assert len(lex._cache) <= 2  # white-box: the cache must stay bounded


def test_wildcard_matches_bare_prefix_and_longer_words() -> None:
    """A wildcard entry matches the prefix itself and any continuation, but not shorter tokens."""
    entries: dict[str, list[str]] = {name: [] for name in CATEGORY_NAMES}
    entries["insight"] = ["realiz*", "know"]
    entries["cause"] = ["re*"]
    lex = Lexicon(entries)
    insight = CATEGORY_NAMES.index("insight")
    cause = CATEGORY_NAMES.index("cause")
    assert lex.lookup("realiz") == tuple(sorted((insight, cause)))
    assert set(lex.lookup("realization")) == {insight, cause}
    assert lex.lookup("real") == (cause,)
    assert lex.lookup("r") == ()
    assert lex.lookup("know") == (insight,)
    assert lex.lookup("knowing") == ()


def test_words_returns_entries_with_wildcards() -> None:
    """words() exposes list entries, wildcards keeping their '*'."""
    insight = load_lexicon().words("insight")
    assert "realiz*" in insight
    assert "think" in insight
    assert isinstance(insight, frozenset)


def test_words_of_unknown_category_raises() -> None:
    """Asking for a category that does not exist raises a LexiconError."""
    with pytest.raises(LexiconError, match="unknown lexicon category"):
        load_lexicon().words("mood")


def test_load_lexicon_is_cached_and_matches_the_folder() -> None:
    """load_lexicon returns one shared instance with the same lists as the packaged folder."""
    assert load_lexicon() is load_lexicon()
    from_folder = Lexicon.from_directory(PACKAGED)
    for name in CATEGORY_NAMES:
        assert from_folder.words(name) == load_lexicon().words(name)


@pytest.mark.parametrize(
    ("bad_line", "problem"),
    [
        ("make sense", "whitespace"),
        ("Think", "not lowercase"),
        ("*", "empty prefix"),
        ("re*al", "only allowed once, at the end"),
        ("think\u2019s", "character other than"),
        ("think", "duplicate entry"),
    ],
)
def test_malformed_entry_names_file_and_line(
    lexicon_copy: pathlib.Path, bad_line: str, problem: str
) -> None:
    """A malformed entry raises an EdgeProfilerError naming the file and the line number."""
    path = lexicon_copy / "insight.txt"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines.append(bad_line)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(LexiconError) as caught:
        Lexicon.from_directory(lexicon_copy)
    message = str(caught.value)
    assert "insight.txt" in message
    assert f"line {len(lines)}" in message
    assert problem in message
    assert isinstance(caught.value, EdgeProfilerError)


def test_comments_and_blank_lines_are_ignored(lexicon_copy: pathlib.Path) -> None:
    """Whole-line and trailing comments and blank lines add no entries."""
    path = lexicon_copy / "quant.txt"
    path.write_text("# header\n\nsome  # a trailing comment\nmany\n", encoding="utf-8")
    assert Lexicon.from_directory(lexicon_copy).words("quant") == frozenset({"some", "many"})


def test_unknown_list_file_is_rejected(lexicon_copy: pathlib.Path) -> None:
    """An extra .txt file in the folder raises and is named in the message."""
    (lexicon_copy / "mood.txt").write_text("happy\n", encoding="utf-8")
    with pytest.raises(LexiconError, match=r"unknown files \['mood\.txt'\]"):
        Lexicon.from_directory(lexicon_copy)


def test_missing_list_file_is_rejected(lexicon_copy: pathlib.Path) -> None:
    """A folder without one of the category files raises and names it."""
    (lexicon_copy / "tentat.txt").unlink()
    with pytest.raises(LexiconError, match=r"missing files \['tentat\.txt'\]"):
        Lexicon.from_directory(lexicon_copy)


def test_missing_folder_is_rejected(tmp_path: pathlib.Path) -> None:
    """Loading from a folder that does not exist raises a LexiconError."""
    with pytest.raises(LexiconError, match="does not exist"):
        Lexicon.from_directory(tmp_path / "nowhere")


def test_constructor_rejects_missing_categories_and_bad_cache_size() -> None:
    """The constructor checks the category set and the cache size."""
    with pytest.raises(LexiconError, match="missing"):
        Lexicon({"article": ["the"]})
    with pytest.raises(LexiconError, match="cache_size"):
        Lexicon({name: [] for name in CATEGORY_NAMES}, cache_size=0)


@pytest.mark.parametrize("word", ["love", "great", "happy", "wonderful", "sadly"])
def test_posemo_or_negemo_holds_obvious_affect(word: str) -> None:
    """VADER-derived lists hold clearly emotional words in the right polarity."""
    expected = "negemo" if word == "sadly" else "posemo"
    assert word in load_lexicon().words(expected)


@pytest.mark.parametrize("word", ["hate", "terrible", "awful", "angry"])
def test_negemo_holds_obvious_negative_words(word: str) -> None:
    """Clearly negative words are in negemo and not in posemo."""
    assert word in load_lexicon().words("negemo")
    assert word not in load_lexicon().words("posemo")


@pytest.mark.parametrize("word", ["table", "the", "walk", "like", "no", "well", "kind", "okay"])
def test_affect_lists_exclude_neutral_and_function_words(word: str) -> None:
    """Neutral words, function words and hedges are in neither affect list."""
    assert word not in load_lexicon().words("posemo")
    assert word not in load_lexicon().words("negemo")


def test_affect_lists_match_their_documented_vader_derivation() -> None:
    """posemo/negemo equal the README rule re-applied to the installed VADER lexicon."""
    pytest.importorskip("vaderSentiment")
    source = resources.files("vaderSentiment").joinpath("vader_lexicon.txt")
    valence: dict[str, float] = {}
    for line in source.read_text(encoding="utf-8").splitlines():
        fields = line.strip().split("\t")
        if len(fields) >= 2:
            valence[fields[0]] = float(fields[1])  # later lines win, as in VADER
    lex = load_lexicon()
    closed = {CATEGORY_NAMES.index(name) for name in CLOSED_CLASSES}

    def kept(word: str) -> bool:
        return (
            word.isascii()
            and word.isalpha()
            and word == word.lower()
            and word not in AFFECT_HEDGES
            and not closed & set(lex.lookup(word))
        )

    positive = {w for w, v in valence.items() if v >= 1.0 and kept(w)}
    negative = {w for w, v in valence.items() if v <= -1.0 and kept(w)}
    assert lex.words("posemo") == positive
    assert lex.words("negemo") == negative


def test_fast_lookup_equals_brute_force_definition() -> None:
    """The indexed lookup agrees with matching every entry and wildcard one by one."""
    from edge_client.text.lexicon import CATEGORY_NAMES, load_lexicon

    lex = load_lexicon()
    entries = {name: lex.words(name) for name in CATEGORY_NAMES}

    def brute(token: str) -> tuple[int, ...]:
        return tuple(
            i
            for i, name in enumerate(CATEGORY_NAMES)
            if any(
                (e.endswith("*") and token.startswith(e[:-1])) or e == token for e in entries[name]
            )
        )

    probes = {"reasoning", "realized", "thinking", "maybe", "the", "zebra", "certainly", "x"}
    for name in CATEGORY_NAMES:
        # Every wildcard, and a sample of the long VADER-derived lists (brute force is slow).
        chosen = sorted(entries[name])
        for entry in [e for e in chosen if e.endswith("*")] + chosen[::40]:
            stem = entry.rstrip("*")
            probes.update({stem, stem + "ing", stem[:-1], stem + "s"})
    for token in sorted(t for t in probes if t and not t[0].isdigit()):
        assert lex.lookup(token) == brute(token), token
