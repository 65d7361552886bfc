from collections.abc import Callable
from datetime import timedelta

import pytest

from edge_client.policy import (
    ConsentError,
    Policy,
    PolicyEngine,
    Preset,
    Purpose,
    RoundKey,
    Signal,
    StoredItem,
    Trait,
    UnknownNodeError,
    load_preset,
)
from edge_client.taxonomy import Taxonomy, load_taxonomy


def test_filter_interests_drops_special_nodes_and_descendants(
    make_policy: Callable[..., Policy], small_taxonomy: Taxonomy
) -> None:
    """A marked node and all its descendants vanish from any model output; others stay."""
    engine = PolicyEngine(make_policy(), small_taxonomy)
    scores = {"pol": 0.9, "elect": 0.8, "local": 0.7, "rel": 0.6, "base": 0.5, "sport": 0.4}
    assert engine.filter_interests(scores) == {"base": 0.5, "sport": 0.4}
    assert not engine.is_interest_allowed("local")
    assert engine.is_interest_allowed("hockey")


def test_forbidden_node_blocks_its_subtree(
    make_policy: Callable[..., Policy], small_taxonomy: Taxonomy
) -> None:
    """An explicitly forbidden node blocks its descendants, not its siblings."""
    engine = PolicyEngine(make_policy(inference__forbidden_nodes='["sport"]'), small_taxonomy)
    assert engine.filter_interests({"sport": 1.0, "base": 0.9, "hockey": 0.8}) == {}
    assert engine.blocked_nodes >= {"sport", "base", "hockey", "pol", "elect", "local", "rel"}


def test_filter_interests_ignores_unknown_ids_and_keeps_the_top(
    make_policy: Callable[..., Policy], small_taxonomy: Taxonomy
) -> None:
    """Unknown ids and non-finite scores are dropped; at most max_interests remain."""
    engine = PolicyEngine(make_policy(inference__max_interests="1"), small_taxonomy)
    scores = {"ghost": 5.0, "base": float("nan"), "hockey": 0.2, "sport": 0.3}
    assert engine.filter_interests(scores) == {"sport": 0.3}


def test_unknown_forbidden_node_is_refused(
    make_policy: Callable[..., Policy], small_taxonomy: Taxonomy
) -> None:
    """An engine is not built when the policy forbids a node the taxonomy lacks."""
    with pytest.raises(UnknownNodeError):
        PolicyEngine(make_policy(inference__forbidden_nodes='["ghost"]'), small_taxonomy)


def test_default_policy_blocks_politics_and_religion_in_the_real_taxonomy() -> None:
    """With the packaged taxonomy every special-category label node is blocked, sports not."""
    taxonomy = load_taxonomy()
    engine = PolicyEngine(load_preset(Preset.DEFAULT), taxonomy)
    nodes = taxonomy.label_to_node
    for label in (
        "politics",
        "religion",
        "medical_health",
        "pregnancy",
        "sexual_orientation",
        "sex_life",
        "ethnic_origin",
        "drugs",
    ):
        assert not engine.is_interest_allowed(nodes[label]), label
    for label in ("sports", "science", "technology", "automotive", "relationships"):
        assert engine.is_interest_allowed(nodes[label]), label


def test_trait_needs_minimum_evidence_and_confidence(
    make_policy: Callable[..., Policy], small_taxonomy: Taxonomy
) -> None:
    """Decision style is used only at or above 350 words and confidence 0.6 (default)."""
    engine = PolicyEngine(make_policy(), small_taxonomy)
    assert engine.may_use_trait(Trait.DECISION_STYLE, words=350, confidence=0.25)
    assert not engine.may_use_trait(Trait.DECISION_STYLE, words=349, confidence=0.99)
    assert not engine.may_use_trait(Trait.DECISION_STYLE, words=5000, confidence=0.24)
    assert engine.may_choose_variant(words=400, confidence=0.7)
    assert not engine.may_choose_variant(words=40, confidence=0.7)


def test_strict_policy_never_uses_decision_style(small_taxonomy: Taxonomy) -> None:
    """Under the strict preset decision style never chooses a variant, whatever the evidence."""
    engine = PolicyEngine(load_preset(Preset.STRICT), small_taxonomy)
    assert not engine.may_choose_variant(words=10_000, confidence=1.0)
    assert not engine.is_signal_allowed(Signal.MESSAGE_TEXT)
    assert engine.is_signal_allowed(Signal.REVIEW_TEXT)


def test_consent_is_checked_and_revocation_is_immediate(
    make_policy: Callable[..., Policy], small_taxonomy: Taxonomy
) -> None:
    """Profiling needs opt-in; a revocation makes the shared state refuse at once."""
    engine = PolicyEngine(make_policy(), small_taxonomy)
    assert engine.consent_required(Purpose.PROFILING)
    consent = engine.consent_state()
    with pytest.raises(ConsentError, match="opt-in"):
        consent.check(Purpose.PROFILING)
    consent.grant(Purpose.PROFILING)
    consent.check(Purpose.PROFILING)
    shared = consent
    consent.revoke(Purpose.PROFILING)
    with pytest.raises(ConsentError):
        shared.check(Purpose.PROFILING)
    with pytest.raises(ConsentError, match="not allowed"):
        consent.grant(Purpose.THIRD_PARTY_TOPICS)


def test_purpose_without_opt_in_requirement_runs_without_consent(
    make_policy: Callable[..., Policy], small_taxonomy: Taxonomy
) -> None:
    """A purpose allowed without opt-in passes the check with nothing granted."""
    policy = make_policy(consent__opt_in_required='["federated_training"]')
    consent = PolicyEngine(policy, small_taxonomy).consent_state()
    consent.check(Purpose.PERSONALIZATION)
    assert not consent.allows(Purpose.FEDERATED_TRAINING)


def _round(engine: PolicyEngine, **overrides: object) -> dict[str, object]:
    fed = engine.federated
    config: dict[str, object] = {
        RoundKey.POLICY_HASH.value: engine.policy_hash,
        RoundKey.COHORT_SIZE.value: fed.min_cohort,
        RoundKey.SAMPLING_RATE.value: fed.sampling_rate,
        RoundKey.CLIPPING_NORM.value: fed.clipping_norm,
        RoundKey.NOISE_MULTIPLIER.value: fed.noise_multiplier,
        RoundKey.SECURE_AGGREGATION.value: False,
        RoundKey.METRICS.value: "num_examples,loss",
    }
    config.update(overrides)
    return config


def test_compliant_round_has_no_refusal_reason(
    make_policy: Callable[..., Policy], small_taxonomy: Taxonomy
) -> None:
    """A round matching the policy exactly may be joined."""
    engine = PolicyEngine(make_policy(), small_taxonomy)
    assert engine.check_round_config(_round(engine)) == []


def test_round_refusal_reasons(
    make_policy: Callable[..., Policy], small_taxonomy: Taxonomy
) -> None:
    """Wrong hash, small cohort, missing DP, extra metrics and the cap are each a reason."""
    engine = PolicyEngine(make_policy(federated__secure_aggregation="true"), small_taxonomy)
    config = _round(
        engine,
        policy_hash="0" * 64,
        cohort_size=10,
        noise_multiplier=0.0,
        metrics=["loss", "accuracy"],
        sampling_rate=0.5,
        clipping_norm=9.0,
    )
    consent = engine.consent_state()
    reasons = engine.check_round_config(config, participations=10, consent=consent)
    joined = "\n".join(reasons)
    for needle in (
        "not consented",
        "policy hash",
        "k=50",
        "sampling rate",
        "clipping norm",
        "noise multiplier",
        "secure aggregation",
        "accuracy",
        "participation",
    ):
        assert needle in joined, needle
    assert len(reasons) == 9


def test_disabled_federation_refuses_every_round(
    make_policy: Callable[..., Policy], small_taxonomy: Taxonomy
) -> None:
    """With federated training off a client refuses even a compliant round."""
    engine = PolicyEngine(make_policy(federated__enabled="false"), small_taxonomy)
    assert engine.check_round_config(_round(engine)) != []


def test_metrics_and_retention_accessors(
    make_policy: Callable[..., Policy], small_taxonomy: Taxonomy
) -> None:
    """Only allowed metrics pass; TTL and decay follow retention settings."""
    engine = PolicyEngine(make_policy(), small_taxonomy)
    assert engine.filter_metrics({"loss": 0.1, "accuracy": 0.9}) == {"loss": 0.1}
    assert engine.retention_ttl(StoredItem.PROFILE) == timedelta(days=90)
    assert engine.decay_factor(timedelta(days=14)) == pytest.approx(0.5)
    assert engine.decay_factor(timedelta(days=91)) == 0.0
    assert engine.personalization.max_per_hour == 10
