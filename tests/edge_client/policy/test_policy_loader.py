from collections.abc import Callable

import pytest

from edge_client.policy import (
    PolicyValidationError,
    Preset,
    Problem,
    Severity,
    Trait,
    lint_text,
    load_preset,
    parse_policy,
    preset_path,
)
from edge_client.taxonomy import SpecialCategory, Taxonomy, load_taxonomy


@pytest.mark.parametrize("preset", list(Preset))
def test_presets_lint_clean(preset: Preset) -> None:
    """Every shipped preset loads and lints with no error and no warning, epsilon included."""
    path = preset_path(preset)
    result = lint_text(path.read_text(encoding="utf-8"), source=str(path), taxonomy=load_taxonomy())
    assert result.problems == ()
    assert result.policy is not None
    assert result.policy.name == preset.value


def test_default_preset_forbids_all_art9_categories() -> None:
    """The default preset forbids all eight GDPR Art. 9 categories."""
    policy = load_preset(Preset.DEFAULT)
    assert policy.inference.forbidden_special_categories == frozenset(SpecialCategory)
    assert policy.inference.trait(Trait.DECISION_STYLE).min_words == 350


def _only_error(text: str, source: str = "p.toml") -> Problem:
    result = lint_text(text, source=source, epsilon=False)
    errors = [p for p in result.problems if p.is_error]
    assert len(errors) == 1, [str(p) for p in result.problems]
    return errors[0]


def _line_of(text: str, needle: str, section: str = "") -> int:
    lines = text.splitlines()
    start = lines.index(f"[{section}]") if section else 0
    return next(i for i, line in enumerate(lines[start:], start + 1) if line.startswith(needle))


def test_unknown_key_names_file_field_line_and_suggests(
    default_text: str, edit: Callable[..., str]
) -> None:
    """An unknown key is reported with its file, dotted path, line and a close match."""
    text = default_text.replace("min_cohort = 50", "min_cohrt = 50")
    problem = _only_error(text, source="policies/x.toml")
    assert problem.file == "policies/x.toml"
    assert problem.field == "federated.min_cohrt"
    assert problem.line == _line_of(text, "min_cohrt")
    assert "min_cohort" in problem.message
    assert str(problem).startswith(f"policies/x.toml:{problem.line}: error: federated.min_cohrt")


def test_wrong_type_is_reported_at_its_line(default_text: str, edit: Callable[..., str]) -> None:
    """A string where an integer belongs is a type error at the key's line."""
    text = edit(default_text, personalization__max_per_hour='"ten"')
    problem = _only_error(text)
    assert (problem.field, problem.line) == (
        "personalization.max_per_hour",
        _line_of(text, "max_per_hour"),
    )
    assert "integer" in problem.message


def test_bool_is_not_accepted_as_a_number(default_text: str, edit: Callable[..., str]) -> None:
    """``true`` is not a valid cap even though Python bools are ints."""
    problem = _only_error(edit(default_text, personalization__max_per_day="true"))
    assert problem.field == "personalization.max_per_day"


@pytest.mark.parametrize(
    ("key", "value", "field"),
    [
        ("personalization__exploration_share", "1.5", "personalization.exploration_share"),
        ("personalization__exploration_share", "-0.1", "personalization.exploration_share"),
        ("federated__min_cohort", "1", "federated.min_cohort"),
        ("inference__decision_style__min_words", "-1", "inference.decision_style.min_words"),
        ("inference__interests__min_confidence", "1.01", "inference.interests.min_confidence"),
        ("federated__sampling_rate", "0.0", "federated.sampling_rate"),
        ("federated__target_delta", "0.5", "federated.target_delta"),
    ],
)
def test_out_of_range_values_are_errors(
    default_text: str, edit: Callable[..., str], key: str, value: str, field: str
) -> None:
    """Out-of-range values (share outside [0, 1], k below 2, negative evidence) are errors."""
    text = edit(default_text, **{key: value})
    problem = _only_error(text)
    assert problem.field == field
    section, key = field.rsplit(".", 1)
    assert problem.line == _line_of(text, key, section)
    assert "must be" in problem.message


def test_unknown_enum_value_is_an_error(default_text: str, edit: Callable[..., str]) -> None:
    """A purpose that does not exist is reported with the allowed values."""
    text = edit(default_text, consent__allowed_purposes='["profiling", "selling"]')
    problem = _only_error(text)
    assert problem.field == "consent.allowed_purposes"
    assert "'selling'" in problem.message and "'personalization'" in problem.message


def test_every_problem_is_collected(default_text: str, edit: Callable[..., str]) -> None:
    """Lint reports all problems of a document, not only the first."""
    text = edit(
        default_text,
        federated__min_cohort="0",
        personalization__exploration_share="2.0",
        retention__profile_ttl_days='"x"',
    )
    text = text.replace("[audit]", "[audit]\nverbose = true")
    fields = {p.field for p in lint_text(text, epsilon=False).problems if p.is_error}
    assert fields == {
        "federated.min_cohort",
        "personalization.exploration_share",
        "retention.profile_ttl_days",
        "audit.verbose",
    }


def test_parse_policy_raises_with_every_error(default_text: str, edit: Callable[..., str]) -> None:
    """parse_policy raises PolicyValidationError carrying every error and naming the file."""
    text = edit(default_text, federated__min_cohort="0", personalization__max_per_day="-1")
    with pytest.raises(PolicyValidationError) as info:
        parse_policy(text, source="bad.toml")
    assert len([p for p in info.value.problems if p.is_error]) == 2
    assert "bad.toml:" in str(info.value)


def test_every_cap_zero_with_personalization_on_is_a_contradiction(
    default_text: str, edit: Callable[..., str]
) -> None:
    """Personalization on with every cap at 0 is an error naming the caps."""
    text = edit(
        default_text,
        personalization__max_per_item_per_day="0",
        personalization__max_per_category_per_day="0",
        personalization__max_per_hour="0",
        personalization__max_per_day="0",
    )
    problem = _only_error(text)
    assert problem.field.startswith("personalization.max_per")
    assert problem.line is not None
    assert "nothing can ever be shown" in problem.message


def test_caps_at_zero_are_fine_when_personalization_is_off(
    default_text: str, edit: Callable[..., str]
) -> None:
    """Zero caps are not a contradiction once personalization is off."""
    text = edit(
        default_text,
        personalization__enabled="false",
        personalization__max_per_hour="0",
        personalization__max_per_day="0",
    )
    assert lint_text(text, epsilon=False).ok


def test_signal_both_allowed_and_forbidden_is_an_error(
    default_text: str, edit: Callable[..., str]
) -> None:
    """A signal listed as both allowed and forbidden is a contradiction."""
    text = edit(default_text, signals__forbidden='["message_text", "review_text"]')
    problem = _only_error(text)
    assert problem.field == "signals.forbidden" and "review_text" in problem.message


def test_enabled_feature_without_its_purpose_is_an_error(
    default_text: str, edit: Callable[..., str]
) -> None:
    """Federated training on while its purpose is not allowed is a contradiction."""
    text = edit(default_text, consent__allowed_purposes='["profiling", "personalization"]')
    problem = _only_error(text)
    assert problem.field == "federated.enabled"


def test_style_variants_without_decision_style_is_an_error(
    default_text: str, edit: Callable[..., str]
) -> None:
    """Decision style cannot choose variants when it may not be inferred."""
    text = edit(default_text, inference__decision_style__allowed="false")
    assert _only_error(text).field == "personalization.style_variants"


def test_dropping_an_art9_category_warns(default_text: str, edit: Callable[..., str]) -> None:
    """A policy that no longer forbids an Art. 9 category gets a warning naming it."""
    text = default_text.replace('    "health",\n', "")
    result = lint_text(text, epsilon=False)
    assert result.ok
    warnings = [p for p in result.problems if p.severity is Severity.WARNING]
    assert any("'health'" in p.message for p in warnings)


def test_toml_syntax_error_has_a_line(default_text: str, edit: Callable[..., str]) -> None:
    """A TOML syntax error becomes one problem with its line number."""
    text = default_text.replace("min_cohort = 50", "min_cohort = = 50")
    result = lint_text(text, source="s.toml")
    assert not result.ok
    assert result.problems[0].line == _line_of(text, "min_cohort")


def test_missing_name_is_required(default_text: str, edit: Callable[..., str]) -> None:
    """The policy name is required."""
    text = default_text.replace('name = "default"\n', "")
    assert _only_error(text).field == "policy.name"


def test_missing_optional_fields_take_their_defaults() -> None:
    """A minimal document fills every other field with its documented default."""
    policy = parse_policy('[policy]\nname = "m"\nversion = 3\n')
    assert policy.version == 3
    assert policy.federated.min_cohort == 50
    assert policy.inference.forbidden_special_categories == frozenset(SpecialCategory)


def test_unknown_forbidden_node_is_an_error_with_a_taxonomy(
    default_text: str, edit: Callable[..., str], small_taxonomy: Taxonomy
) -> None:
    """A forbidden node id missing from the taxonomy is an error (a typo blocks nothing)."""
    text = edit(default_text, inference__forbidden_nodes='["nope"]')
    result = lint_text(text, epsilon=False, taxonomy=small_taxonomy)
    assert [p.field for p in result.problems if p.is_error] == ["inference.forbidden_nodes"]
