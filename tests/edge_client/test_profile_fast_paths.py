"""The profiler's fast paths give the profiles of the straightforward computation, bit for bit.

A profile folds one shared hashed input into each model's reused row
(:class:`~edge_client.text.hashing.PaddedRow`), asks only for the language verdict of English
text, and ranks text-only interests from the allowed labels that reach the floor. Each test
here compares with the plain computation those replace: ``predict`` on the counts,
:func:`~edge_client.behaviour.fusion.fuse_interests` and
:meth:`~edge_client.policy.PolicyEngine.filter_interests` over every node, the full
:func:`~edge_client.text.language.check_language`.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from edge_client import EdgeProfiler
from edge_client.behaviour import View
from edge_client.behaviour.fusion import fuse_interests
from edge_client.policy import Policy, Purpose, load_preset
from edge_client.policy.model import Trait
from edge_client.policy.presets import Preset
from edge_client.profile import (
    MIN_INTEREST_SCORE,
    THIN_EVIDENCE_WORDS,
    DecisionStyle,
    Evidence,
    Interest,
    Profile,
    evidence_for,
)
from edge_client.text.features import TextCounts, cdi, extract
from edge_client.text.hashing import (
    PaddedRow,
    fold_counts,
    hashed_counts,
    hashed_input,
    sparse_batch,
)
from edge_client.text.language import check_language, text_language
from edge_client.text.lexicon import CATEGORY_NAMES

# Written for these tests: a few topics, lengths and registers (no corpus text).
TEXTS = (
    "The benchmark compares three processors on cost per operation. The second one is 12 "
    "percent faster, although it draws more power, so the total cost depends on utilisation.",
    "The pitcher threw a no-hitter and the Yankees won the series in the ninth inning. " * 3,
    "We prayed together at church on Sunday and read the Bible; Jesus and God bless us. " * 4,
    "Honestly I loved it!! The hotel was lovely, the beach was warm and the kids had a blast. "
    "We ate seafood every night and I cried when we had to leave \U0001f60d",
    "My mortgage rate went up again, so we moved our savings into a fixed deposit and cut the "
    "streaming subscriptions. The budget spreadsheet says we will be fine by spring. " * 5,
    "I compared the specifications of both engines before buying.",
    "Ich habe den Akkuschrauber letzte Woche gekauft und bin wirklich zufrieden. Der Akku hält "
    "lange, das Gewicht ist angenehm und die Verarbeitung wirkt solide.",
    "def f(x): return {k: v for k, v in x.items() if v[0] == '#'}; x[1] = (a & b) | c;" * 4,
    "",
)


def _policies() -> dict[str, Policy]:
    """The presets and edits that move each branch of the interest ranking."""
    base = load_preset(Preset.DEFAULT)
    rules = base.inference
    return {
        "default": base,
        "research": load_preset(Preset.RESEARCH),
        "sports_forbidden": dataclasses.replace(
            base, inference=dataclasses.replace(rules, forbidden_nodes=frozenset({"483"}))
        ),
        "one_interest_any_score": dataclasses.replace(
            base,
            inference=dataclasses.replace(
                rules,
                max_interests=1,
                interests=dataclasses.replace(rules.interests, min_confidence=0.0),
            ),
        ),
        "no_style": dataclasses.replace(
            base,
            inference=dataclasses.replace(
                rules, decision_style=dataclasses.replace(rules.decision_style, allowed=False)
            ),
        ),
    }


def reference_profile(profiler: EdgeProfiler) -> Profile:
    """The profile of the profiler's counts, computed the plain way (for English text)."""
    counts, behaviour = profiler.counts, profiler.behaviour
    policy, engine, taxonomy = profiler.policy, profiler.engine, profiler.taxonomy
    rules = policy.inference
    words = round(counts.words)
    evidence = evidence_for(counts.words)
    language = check_language(counts)
    assert language.readable, "the reference covers English text"
    usable: set[str] = set()
    notes: list[str] = []
    style = DecisionStyle(None, 0.0)
    if rules.decision_style.allowed:
        analytical = float(profiler.style_model.predict([counts])[0, 0])
        weight = counts.words / (counts.words + THIN_EVIDENCE_WORDS)
        confidence = weight * abs(2.0 * analytical - 1.0)
        style = DecisionStyle(round(analytical, 6), round(float(confidence), 6))
        if engine.may_use_trait(Trait.DECISION_STYLE, words=words, confidence=confidence):
            usable.add(Trait.DECISION_STYLE.value)
    else:
        notes.append("The policy does not allow inferring decision style.")
    by_node: dict[str, float] = {}
    probs = profiler.interest_model.predict([counts])[0].tolist()
    for node, p in zip(taxonomy.label_nodes(), probs, strict=True):
        by_node[node] = by_node.get(node, 0.0) + p
    fused = fuse_interests(by_node, behaviour, words=counts.words, taxonomy=taxonomy)
    allowed = engine.filter_interests(fused.scores)
    best = next(iter(allowed.values()), 0.0)
    floor = max(rules.interests.min_confidence, MIN_INTEREST_SCORE)
    interests = tuple(
        Interest(node, taxonomy.path(node), score)
        for node, score in allowed.items()
        if score >= floor
    )
    if not interests and allowed:
        notes.append(
            f"No clear interest: no category the policy allows reaches a score of {floor:.2f} "
            f"(the best reaches {best:.2f}), so none is listed."
        )
    if interests and engine.may_use_trait(Trait.INTERESTS, words=words, confidence=best):
        usable.add(Trait.INTERESTS.value)
    if evidence is Evidence.THIN:
        notes.append(
            f"Only {words} words: the evidence is thin (about {THIN_EVIDENCE_WORDS} words "
            "are needed for the published accuracy); treat the scores as weak."
        )
    return Profile(
        words=words,
        evidence=evidence,
        decision_style=style,
        cdi=round(cdi(counts), 4),
        interests=interests,
        notes=tuple(notes),
        usable=frozenset(usable),
        language=language.language,
        interest_confidence=round(best, 6),
    )


@pytest.mark.parametrize("name", list(_policies()))
def test_profiles_equal_the_plain_computation(name: str) -> None:
    """Every field of every English profile equals the plain computation's, float for float.

    Single texts (adopted fresh counts), running sums of several texts, and decayed counts
    (fractional, so any change in the order of a sum would show in the last bits).
    """
    profiler = EdgeProfiler(policy=_policies()[name], consent=[Purpose.PROFILING])
    checked = 0
    for text in TEXTS:
        profiler.reset()
        profiler.observe(text)
        if text_language(profiler.counts).value == "english":
            assert repr(profiler.profile()) == repr(reference_profile(profiler))
            checked += 1
    profiler.reset()
    for round_ in range(3):
        for text in TEXTS[:6]:
            profiler.observe(text)
            assert repr(profiler.profile()) == repr(reference_profile(profiler))
            checked += 1
        profiler.decay(0.37 + 0.2 * round_)
        assert repr(profiler.profile()) == repr(reference_profile(profiler))
    assert checked >= 20


def test_profiles_with_behaviour_equal_the_plain_computation() -> None:
    """With views recorded (the general path of fusion), profiles still equal the plain ones."""
    profiler = EdgeProfiler(policy=Preset.RESEARCH, consent=[Purpose.PROFILING])
    for text in TEXTS[:6]:
        profiler.reset()
        profiler.observe(text)
        profiler.record(View("483", dwell_seconds=90))
        profiler.record(View("597", dwell_seconds=40))
        assert repr(profiler.profile()) == repr(reference_profile(profiler))


def test_other_text_is_refused_with_the_full_check_note() -> None:
    """Non-English text and code get the note of the full language check, nothing inferred."""
    profiler = EdgeProfiler(consent=[Purpose.PROFILING])
    for text in TEXTS[6:8]:
        profiler.reset()
        profiler.observe(text)
        check = check_language(profiler.counts)
        profile = profiler.profile()
        assert profile.language is check.language is text_language(profiler.counts)
        assert not check.readable and profile.notes == (check.note(),)
        assert profile.interests == () and profile.decision_style.analytical is None


def test_reset_profiler_reads_and_decays_empty_counts() -> None:
    """After a reset the counts are empty, and decaying or adding to them starts afresh."""
    profiler = EdgeProfiler(consent=[Purpose.PROFILING])
    profiler.observe(TEXTS[1])
    profiler.reset()
    assert profiler.counts.words == 0 and not profiler.counts.unigrams
    profiler.decay(0.5)
    profiler.observe_counts(extract(TEXTS[0]))
    profiler.observe(TEXTS[1])
    alone = EdgeProfiler(consent=[Purpose.PROFILING])
    alone.observe(TEXTS[0])
    alone.observe(TEXTS[1])
    assert profiler.profile() == alone.profile()
    profiler.reset()
    assert TextCounts().words == 0 and profiler.profile().evidence is Evidence.NONE


def _bag(rng: np.random.Generator, n: int, spread: int, fractional: bool) -> dict[int, float]:
    """``n`` random hashes below ``spread`` with integer or fractional counts."""
    keys = rng.integers(0, spread, n).tolist()
    counts = rng.random(n) * 9 + 0.01 if fractional else rng.integers(1, 9, n).astype(float)
    return dict(zip(keys, counts.tolist(), strict=True))


@pytest.mark.parametrize("dim", [16, 1024, 32768, 131072])
def test_padded_row_equals_fold_and_pad(dim: int) -> None:
    """PaddedRow.fill gives sparse_batch([fold_counts(...)]) bit for bit, call after call.

    Bags without collisions, with pairs and triples of colliding keys, of one key and of none,
    in sizes that grow and shrink (so rows reused at a width must lose their old tail).
    """
    rng = np.random.default_rng(dim)
    row = PaddedRow(dim)
    for trial in range(400):
        n = int(rng.integers(0, 300)) if trial % 10 else int(rng.integers(0, 3))
        spread = 2**32 if trial % 3 else 8 * dim  # the second folds many keys together
        bag = _bag(rng, n, spread, fractional=bool(trial % 2))
        want_idx, want_val = sparse_batch([fold_counts(*hashed_counts([bag]), dim)])
        idx, val = row.fill(hashed_input([bag]))
        assert idx.shape == want_idx.shape and idx.dtype == want_idx.dtype
        assert val.dtype == want_val.dtype
        assert idx.tobytes() == want_idx.tobytes() and val.tobytes() == want_val.tobytes()


def test_padded_row_refuses_a_dimension_that_is_not_a_power_of_two() -> None:
    """The hash dimension must be a power of two, as for fold_counts."""
    with pytest.raises(ValueError, match="power of two"):
        PaddedRow(12)


def test_language_shares_equal_the_plain_sums() -> None:
    """check_language's shares and verdict equal the plain formulas on fractional counts."""
    rng = np.random.default_rng(7)
    function = [CATEGORY_NAMES.index(c) for c in ("article", "prep", "ppron", "ipron")]
    function += [CATEGORY_NAMES.index(c) for c in ("auxverb", "conj", "negate")]
    for text in TEXTS:
        counts = extract(text)
        counts.scale(float(rng.random()))
        check = check_language(counts)
        assert check.language is text_language(counts)
        if counts.words > 0:
            expected = float(counts.categories.take(function).sum()) / float(counts.words)
            assert check.function_share == expected
