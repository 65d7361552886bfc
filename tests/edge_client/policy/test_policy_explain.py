from collections.abc import Callable

from edge_client.policy import Policy, Preset, diff_policies, explain_policy, load_preset
from edge_client.policy.explain import format_changes
from edge_client.taxonomy import Taxonomy


def test_explain_mentions_forbidden_categories_and_nodes(
    make_policy: Callable[..., Policy], small_taxonomy: Taxonomy
) -> None:
    """The explanation names every forbidden Art. 9 category and forbidden node by path."""
    text = explain_policy(make_policy(inference__forbidden_nodes='["base"]'), small_taxonomy)
    assert "FORBIDDEN" in text
    for name in (
        "political opinions",
        "religious philosophical beliefs",
        "health",
        "sex life orientation",
        "trade union membership",
    ):
        assert name in text
    assert "Sports > Baseball" in text
    assert "raw text is never kept" in text


def test_explain_reflects_disabled_features(make_policy: Callable[..., Policy]) -> None:
    """Turning personalization and federation off changes the explanation."""
    text = explain_policy(make_policy(personalization__enabled="false", federated__enabled="false"))
    assert "Off; everyone gets generic content." in text
    assert "never joins a round" in text


def test_diff_of_equal_policies_is_empty() -> None:
    """A policy compared with itself has no changes."""
    policy = load_preset(Preset.DEFAULT)
    assert diff_policies(policy, policy) == []
    assert format_changes([]) == "no changes"


def test_diff_flags_each_loosening(make_policy: Callable[..., Policy]) -> None:
    """Higher caps, lower k, higher epsilon, fewer categories, longer retention, no opt-in."""
    old = make_policy()
    new = make_policy(
        personalization__max_per_hour="20",
        federated__min_cohort="10",
        federated__target_epsilon="8.0",
        retention__profile_ttl_days="365",
        consent__opt_in_required='["federated_training"]',
        inference__forbidden_special_categories='["health"]',
    )
    changes = {c.field: c for c in diff_policies(old, new)}
    for field in (
        "personalization.max_per_hour",
        "federated.min_cohort",
        "federated.target_epsilon",
        "retention.profile_ttl_days",
        "consent.opt_in_required",
        "inference.forbidden_special_categories",
    ):
        assert changes[field].loosens, field
    assert "LOOSENS PRIVACY" in str(changes["federated.min_cohort"])


def test_diff_does_not_flag_tightenings(make_policy: Callable[..., Policy]) -> None:
    """Tightening changes are listed but not flagged as loosening."""
    changes = diff_policies(
        make_policy(),
        make_policy(
            personalization__max_per_hour="5",
            federated__min_cohort="100",
            federated__secure_aggregation="true",
            personalization__exploration_share="0.3",
        ),
    )
    assert len(changes) == 4
    assert not any(c.loosens for c in changes)


def test_strict_to_default_is_a_loosening() -> None:
    """Moving from the strict to the default preset loosens privacy in many fields."""
    changes = diff_policies(load_preset(Preset.STRICT), load_preset(Preset.DEFAULT))
    loosened = {c.field for c in changes if c.loosens}
    assert {
        "federated.min_cohort",
        "federated.secure_aggregation",
        "inference.decision_style.allowed",
    } <= loosened
