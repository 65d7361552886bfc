"""Feedback: local training examples (numbers only), on-device training, state round trip."""

from __future__ import annotations

import json
from datetime import timedelta

import numpy as np
import pytest

from edge_client.policy import PolicyEngine, Purpose
from edge_client.selection import FeedbackError, SelectionState, SelectionStateError
from edge_client.taxonomy import Taxonomy

from .conftest import START, catalog, engine_with, item, profile, selector

CANARY = "CANARY-5b9e0f-do-not-store"


def test_feedback_trains_the_model_on_device(taxonomy: Taxonomy) -> None:
    """Engagement with emotional variants teaches the model: loss falls, the score moves."""
    engine = engine_with(taxonomy, exploration_share=0.0, max_per_hour=1000, max_per_day=1000,
                         max_per_item_per_day=1000, max_per_category_per_day=1000,
                         fatigue_after_impressions=0)
    cat = catalog([item(f"i{n}", ["545"]) for n in range(10)], taxonomy)
    sel = selector(engine, taxonomy)
    person = profile(analytical=0.95)  # analytical writer who, in this test, engages always
    before = sel.select(person, cat, k=10, now=START, record=False).choices[0].score
    for step in range(20):
        now = START + timedelta(minutes=step)
        for choice in sel.select(person, cat, k=10, now=now).choices:
            assert sel.feedback(choice.item.id, engaged=True, now=now)
    assert len(sel.state.examples) == 200
    report = sel.train_from_feedback(learning_rate=0.5, epochs=3)
    assert report.examples == 200 and report.steps > 0
    assert report.loss_after < report.loss_before
    after = sel.select(person, cat, k=10, now=START, record=False).choices[0].score
    assert after > before
    assert sel.train_from_feedback().examples == 0  # only new examples by default


def test_no_training_example_without_consent(engine: PolicyEngine, taxonomy: Taxonomy) -> None:
    """Feedback on unpersonalized picks, or after consent is revoked, keeps no example."""
    cat = catalog([item("a", ["545"]), item("b", ["545"])], taxonomy)
    sel = selector(engine, taxonomy, consent=False)
    for choice in sel.select(profile(), cat, k=2, now=START).choices:
        assert not sel.feedback(choice.item.id, engaged=True, now=START)
    sel = selector(engine, taxonomy)
    shown = sel.select(profile(), cat, k=2, now=START).choices
    sel.consent.revoke(Purpose.PERSONALIZATION)
    assert not sel.feedback(shown[0].item.id, engaged=True, now=START)
    assert sel.state.examples == []


def test_revoked_consent_stops_on_device_training_at_once(
    engine: PolicyEngine, taxonomy: Taxonomy
) -> None:
    """After revoking personalization, training refuses and the kept examples are dropped."""
    from edge_client.policy import ConsentError

    cat = catalog([item("a", ["545"]), item("b", ["545"])], taxonomy)
    sel = selector(engine, taxonomy)
    for choice in sel.select(profile(), cat, k=2, now=START).choices:
        sel.feedback(choice.item.id, engaged=True, now=START)
    assert sel.state.examples
    weights = sel.model.get_weights()
    sel.consent.revoke(Purpose.PERSONALIZATION)
    with pytest.raises(ConsentError):
        sel.train_from_feedback()
    assert sel.state.examples == []
    for name, value in sel.model.get_weights().items():
        assert (value == weights[name]).all()


def test_feedback_for_unknown_item_fails_without_quoting_it(engine: PolicyEngine,
                                                            taxonomy: Taxonomy) -> None:
    """Feedback for an item never shown raises FeedbackError that does not echo the id."""
    sel = selector(engine, taxonomy)
    with pytest.raises(FeedbackError) as info:
        sel.feedback(CANARY, engaged=True, now=START)
    assert CANARY not in str(info.value)


def test_canary_never_reaches_training_examples(engine: PolicyEngine,
                                                taxonomy: Taxonomy) -> None:
    """A canary in the catalog's text or id is absent from the serialized examples."""
    row = item(CANARY, ["545"])
    row["variants"]["analytical"]["body"] = CANARY
    row["variants"]["emotional"]["title"] = CANARY
    text_only = item("plain", ["545"])
    text_only["variants"]["generic"]["title"] = CANARY
    cat = catalog([row, text_only], taxonomy)
    sel = selector(engine, taxonomy)
    for choice in sel.select(profile(analytical=0.05), cat, k=2, now=START).choices:
        sel.feedback(choice.item.id, engaged=True, now=START)
    state = sel.state.to_dict()
    assert len(state["examples"]) == 2
    assert CANARY not in json.dumps(state["examples"])
    del state["examples"]
    # Elsewhere only the app's item id may appear (for caps), never the item's text.
    assert json.dumps(state).count(CANARY) == json.dumps(state).count(f'"{CANARY}"')


def test_state_round_trips_and_rejects_garbage(engine: PolicyEngine, taxonomy: Taxonomy) -> None:
    """to_dict/from_dict restore caps and examples; malformed data raises a clear error."""
    cat = catalog([item("a", ["545"]), item("b", ["515"])], taxonomy)
    sel = selector(engine, taxonomy)
    for choice in sel.select(profile(), cat, k=2, now=START).choices:
        sel.feedback(choice.item.id, engaged=False, dismissed=True, now=START)
    data = json.loads(json.dumps(sel.state.to_dict()))
    restored = SelectionState.from_dict(data)
    assert restored.to_dict() == sel.state.to_dict()
    assert restored.blocked(START.timestamp() + 60, engine.personalization) == {"a", "b"}
    data["examples"][0]["x"][0] = "NaN?"
    with pytest.raises(SelectionStateError, match="'examples'"):
        SelectionState.from_dict(data)


def test_examples_expire_with_the_policy_ttl(engine: PolicyEngine, taxonomy: Taxonomy) -> None:
    """Training examples older than retention.training_examples_ttl_days are dropped."""
    cat = catalog([item("a", ["545"])], taxonomy)
    sel = selector(engine, taxonomy)
    sel.select(profile(), cat, k=1, now=START)
    sel.feedback("a", engaged=True, now=START)
    ttl = engine.policy.retention.training_examples_ttl_days
    sel.select(profile(), cat, k=1, now=START + timedelta(days=ttl - 1))
    assert len(sel.state.examples) == 1
    sel.select(profile(), cat, k=1, now=START + timedelta(days=ttl, hours=1))
    assert sel.state.examples == []


def test_selection_needs_aware_time(engine: PolicyEngine, taxonomy: Taxonomy) -> None:
    """A naive datetime is refused (caps windows need an absolute time)."""
    cat = catalog([item("a", ["545"])], taxonomy)
    with pytest.raises(ValueError, match="timezone-aware"):
        selector(engine, taxonomy).select(profile(), cat, k=1, now=START.replace(tzinfo=None))
    assert np.isfinite(selector(engine, taxonomy).select(profile(), cat, k=1).choices[0].score)
