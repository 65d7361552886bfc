"""Selector: policy boundaries, caps, fatigue, suppression, exploration, fallback, variants."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import timedelta

import numpy as np

from edge_client.policy import Fallback, PolicyEngine, Purpose
from edge_client.selection import Basis, FallbackCause, Variant, load_sample_catalog
from edge_client.selection import Fallback as FallbackReason
from edge_client.taxonomy import Taxonomy
from edge_client.text.language import TextLanguage

from .conftest import START, catalog, engine_with, item, profile, selector

FORBIDDEN = ["286", "386", "388", "453", "457", "459"]  # health, politics, religion


def test_forbidden_categories_never_selected_whatever_the_scores(
    engine: PolicyEngine, taxonomy: Taxonomy
) -> None:
    """Items in Art. 9 categories never appear, even at top popularity and forced weights."""
    rows = [item(f"bad{i}", [node], popularity=0.99) for i, node in enumerate(FORBIDDEN)]
    rows += [item(f"ok{i}", ["545"], popularity=0.01) for i in range(3)]
    cat = catalog(rows, taxonomy)
    sel = selector(engine, taxonomy)
    weights = sel.model.get_weights()
    weights["w"][:] = 50.0  # every interest node matches everything, strongly
    weights["v"][0] = 20.0  # popularity dominates
    sel.model.set_weights(weights)
    person = profile(interests={node: 0.9 for node in FORBIDDEN} | {"545": 0.1})
    for step in range(30):
        picks = sel.select(person, cat, k=9, now=START + timedelta(days=step))
        assert picks.choices
        assert not {c.item.id for c in picks.choices} & {r["id"] for r in rows[: len(FORBIDDEN)]}


def test_caps_fatigue_and_suppression_over_a_simulated_day(taxonomy: Taxonomy) -> None:
    """Every 5 minutes for a day: hourly, daily, item, category caps and suppression hold."""
    engine = engine_with(taxonomy, exploration_share=0.2, max_per_category_per_day=8)
    rows = [item(f"i{n}", [cat]) for n, cat in enumerate(["545", "515", "472", "1", "27"] * 8)]
    cat = catalog(rows, taxonomy)
    sel = selector(engine, taxonomy, seed=3)
    rules = engine.personalization
    shown: list[tuple[str, str, float]] = []
    dismissed_at: dict[str, float] = {}
    for step in range(24 * 12):
        now = START + timedelta(minutes=5 * step)
        t = now.timestamp()
        for choice in sel.select(profile(), cat, k=3, now=now).choices:
            assert t - dismissed_at.get(choice.item.id, -1e12) >= 48 * 3600
            shown.append((choice.item.id, choice.item.categories[0], t))
            if step % 7 == 0:
                sel.feedback(choice.item.id, engaged=False, dismissed=True, now=now)
                dismissed_at[choice.item.id] = t
    times = np.array([t for _, _, t in shown])
    assert len(shown) <= rules.max_per_day
    for start in range(0, 24 * 3600, 300):
        in_hour = (times >= START.timestamp() + start) & (times < START.timestamp() + start + 3600)
        assert in_hour.sum() <= rules.max_per_hour
    per_item = Counter(i for i, _, _ in shown)
    assert max(per_item.values()) <= min(
        rules.max_per_item_per_day, rules.fatigue_after_impressions
    )
    assert max(Counter(c for _, c, _ in shown).values()) <= 8
    assert len(shown) >= 40  # the caps bind, not an empty feed


def test_fatigue_cools_down_then_engagement_resets(
    engine: PolicyEngine, taxonomy: Taxonomy
) -> None:
    """After 3 ignored impressions an item rests 24 h; engaging with it resets the count."""
    cat = catalog([item("only", ["545"])], taxonomy)
    sel = selector(engine, taxonomy)
    hours = [START + timedelta(hours=h) for h in range(4)]
    ids = [[c.item.id for c in sel.select(profile(), cat, k=1, now=h).choices] for h in hours]
    assert ids == [["only"], ["only"], ["only"], []]
    later = START + timedelta(hours=2, days=1, minutes=1)
    assert [c.item.id for c in sel.select(profile(), cat, k=1, now=later).choices] == ["only"]
    sel.feedback("only", engaged=True, now=later)
    assert sel.state.streak("only") == 0


def test_exploration_share_within_tolerance(taxonomy: Taxonomy) -> None:
    """Over many picks the explored share is close to the policy's exploration_share."""
    engine = engine_with(
        taxonomy,
        exploration_share=0.25,
        max_per_hour=10_000,
        max_per_day=10_000,
        max_per_item_per_day=10_000,
        max_per_category_per_day=10_000,
        fatigue_after_impressions=0,
    )
    cat = load_sample_catalog()
    sel = selector(engine, taxonomy, seed=11)
    explored = total = 0
    for step in range(400):
        picks = sel.select(profile(), cat, k=5, now=START + timedelta(seconds=step), record=False)
        explored += sum(c.explored for c in picks.choices)
        total += len(picks.choices)
        assert all(
            (c.explored) == (Basis.EXPLORATION.value in c.reason.lower() or "explore" in c.reason)
            for c in picks.choices
        )
    assert total == 2000
    assert abs(explored / total - 0.25) < 0.03


def test_fallback_without_consent_or_evidence(engine: PolicyEngine, taxonomy: Taxonomy) -> None:
    """Without consent or usable evidence, picks are generic, by popularity, and say why."""
    cat = load_sample_catalog()
    few_words = replace(profile(words=20), usable=frozenset())
    unsure = replace(profile(interests={}), usable=frozenset(), interest_confidence=0.22)
    german = replace(
        profile(interests={}), usable=frozenset(), language=TextLanguage.OTHER, cdi=None
    )
    cases = [
        (selector(engine, taxonomy, consent=False), profile(), FallbackCause.NO_CONSENT, "allowed"),
        (selector(engine, taxonomy), few_words, FallbackCause.TOO_FEW_WORDS, "needs at least 50"),
        (selector(engine, taxonomy), unsure, FallbackCause.LOW_CONFIDENCE, "scores 0.22"),
        (selector(engine, taxonomy), german, FallbackCause.NOT_ENGLISH, "not English"),
    ]
    for sel, person, cause, words in cases:
        picks = sel.select(person, cat, k=6, now=START)
        assert picks.personalized is False and picks.fallback is cause
        assert picks.fallback_reason is not None and picks.fallback_reason.cause is cause
        assert len(picks.choices) == 6
        for choice in picks.choices:
            assert not choice.personalized
            assert choice.variant is choice.item.default_variant()
            assert choice.explored or (
                "personalization is off" in choice.reason and words in choice.reason
            )
    off = engine_with(taxonomy, fallback=Fallback.NONE)
    assert selector(off, taxonomy, consent=False).select(profile(), cat, k=5).choices == ()


def test_fallback_reason_names_the_minimum_and_the_gap() -> None:
    """The reason says which policy minimum was missed and by how much, in numbers."""
    words = FallbackReason(FallbackCause.TOO_FEW_WORDS, 12, 50).text()
    assert "at least 50 words" in words and "there are 12" in words and "38 more" in words
    unsure = FallbackReason(FallbackCause.LOW_CONFIDENCE, 0.22, 0.3).text()
    assert "0.22" in unsure and "0.30" in unsure and "0.08 short" in unsure
    assert "not enough of your own writing" not in words + unsure


def test_personalized_picks_follow_interests(engine: PolicyEngine, taxonomy: Taxonomy) -> None:
    """With consent and evidence, the top non-explored picks match the person's interest."""
    picks = selector(engine, taxonomy).select(
        profile(interests={"464": 0.8}), load_sample_catalog(), k=3, now=START
    )
    assert picks.personalized and picks.fallback_reason is None
    exploited = [c for c in picks.choices if not c.explored]
    science = {"464", *taxonomy.descendants("464")}
    assert exploited and all(set(c.item.categories) <= science for c in exploited)
    assert all("your interest in Science (score 0.80)" in c.reason for c in exploited)


def test_finer_interest_counts_for_its_model_node(engine: PolicyEngine, taxonomy: Taxonomy) -> None:
    """A profile made elsewhere with Sports > Baseball personalizes as Sports."""
    picks = selector(engine, taxonomy).select(
        profile(interests={"545": 0.7}), load_sample_catalog(), k=3, now=START
    )
    exploited = [c for c in picks.choices if not c.explored]
    assert exploited and all(
        "483" in (*c.item.categories, *taxonomy.ancestors(c.item.categories[0])) for c in exploited
    )


def test_variant_chosen_only_when_allowed(taxonomy: Taxonomy) -> None:
    """Decision style picks the framing only with enough evidence and style_variants on."""
    cat = catalog([item(f"a{i}", ["545"], generic=False) for i in range(4)], taxonomy)
    allowed = engine_with(taxonomy, exploration_share=0.0)
    emotional = selector(allowed, taxonomy).select(profile(analytical=0.05), cat, k=4, now=START)
    assert {c.variant for c in emotional.choices} == {Variant.EMOTIONAL}
    assert all("leans emotional" in c.reason for c in emotional.choices)
    analytical = selector(allowed, taxonomy).select(profile(analytical=0.95), cat, k=4, now=START)
    assert {c.variant for c in analytical.choices} == {Variant.ANALYTICAL}
    thin = selector(allowed, taxonomy).select(
        profile(analytical=0.05, words=120), cat, k=4, now=START
    )
    assert {c.variant for c in thin.choices} == {Variant.ANALYTICAL}  # default, not styled
    off = engine_with(taxonomy, exploration_share=0.0, style_variants=False)
    blocked = selector(off, taxonomy).select(profile(analytical=0.05), cat, k=4, now=START)
    assert {c.variant for c in blocked.choices} == {Variant.ANALYTICAL}
    assert all("not chosen from your decision style" in c.reason for c in blocked.choices)


def test_sensitive_items_are_never_personalized(taxonomy: Taxonomy) -> None:
    """A sensitive item is shown in its default variant, unpersonalized, and says so."""
    engine = engine_with(taxonomy, exploration_share=0.0)
    cat = catalog([item("s", ["545"], sensitive=True, popularity=0.9)], taxonomy)
    choice = (
        selector(engine, taxonomy).select(profile(analytical=0.05), cat, k=1, now=START).choices[0]
    )
    assert not choice.personalized and choice.variant is Variant.GENERIC
    assert "sensitive" in choice.reason


def test_every_choice_has_an_explanation(engine: PolicyEngine, taxonomy: Taxonomy) -> None:
    """Each choice carries a 'Shown because/to/as' reason, also in explain() and to_dict()."""
    picks = selector(engine, taxonomy).select(profile(), load_sample_catalog(), k=8, now=START)
    assert len(picks.choices) == 8
    for choice in picks.choices:
        assert choice.reason.startswith(("Shown", "Sponsored. Shown"))
    assert picks.explain().count("\n") == 7
    assert all(c["reason"] for c in picks.to_dict()["choices"])


def test_revoking_consent_applies_at_once(engine: PolicyEngine, taxonomy: Taxonomy) -> None:
    """Revoking personalization on the shared consent state turns the next selection generic."""
    sel = selector(engine, taxonomy)
    assert sel.select(profile(), load_sample_catalog(), k=2, now=START).personalized
    sel.consent.revoke(Purpose.PERSONALIZATION)
    assert not sel.select(profile(), load_sample_catalog(), k=2, now=START).personalized
