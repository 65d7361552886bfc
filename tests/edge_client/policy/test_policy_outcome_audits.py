from dataclasses import replace

import pytest

from edge_client.policy import (
    Preset,
    diff_policies,
    explain_policy,
    lint_text,
    load_preset,
    preset_path,
)
from edge_client.policy.accounting import calibrate_noise_multiplier, compute_epsilon
from edge_client.policy.canonical import policy_document

_BASE = '[policy]\nname = "p"\nversion = 1\n\n[audit.outcomes]\nenabled = true\n'


def _problems(extra: str) -> list[str]:
    result = lint_text(_BASE + extra, source="p.toml", epsilon=False)
    return [str(p) for p in result.problems]


def test_bad_values_name_file_line_and_field() -> None:
    """Each bad [audit.outcomes] value is one located error naming the dotted field."""
    found = _problems("epsilon = 0\ncontrol_share = 0.9\nmin_cohort = 1\ncadense_days = 7\n")
    assert "p.toml:7: error: audit.outcomes.epsilon: must be > 0, got 0" in found
    assert any(f.startswith("p.toml:8: error: audit.outcomes.control_share") for f in found)
    assert any(f.startswith("p.toml:9: error: audit.outcomes.min_cohort") for f in found)
    assert any(
        "audit.outcomes.cadense_days: unknown key (did you mean 'cadence_days'?)" in f
        for f in found
    )


def test_wrong_type_is_refused() -> None:
    """A string where a number belongs is a located type error, never a traceback."""
    (problem,) = _problems('delta = "small"\n')
    assert problem == "p.toml:7: error: audit.outcomes.delta: must be a finite number"


def test_period_shorter_than_cadence_is_an_error() -> None:
    """No audit round fits in a period shorter than the cadence: the policy is refused."""
    result = lint_text(_BASE + "period_days = 3\ncadence_days = 7\n", epsilon=False)
    assert result.policy is None
    assert any(p.field == "audit.outcomes.period_days" and p.is_error for p in result.problems)


def test_zero_control_share_warns() -> None:
    """Without a control group the lift cannot be measured: a warning, not an error."""
    result = lint_text(_BASE + "control_share = 0.0\n", epsilon=False)
    assert result.policy is not None
    assert [p.field for p in result.problems] == ["audit.outcomes.control_share"]


def test_control_group_without_generic_fallback_warns() -> None:
    """A control group under fallback 'none' would see nothing: a warning names it."""
    text = _BASE.replace(
        "[audit.outcomes]", '[personalization]\nfallback = "none"\n\n[audit.outcomes]'
    )
    result = lint_text(text, epsilon=False)
    assert [p.field for p in result.problems] == ["audit.outcomes.control_share"]
    assert "fallback is 'none'" in result.problems[0].message


def test_presets_parse_the_table_and_default_enables_it() -> None:
    """The default preset turns outcome audits on with epsilon 1 per 28 days, weekly."""
    rules = load_preset(Preset.DEFAULT).audit.outcomes
    assert rules.enabled and rules.epsilon == 1.0 and rules.rounds_per_period == 4
    document = policy_document(load_preset(Preset.DEFAULT))
    assert document["audit"]["outcomes"]["control_share"] == 0.05
    assert "schema" in preset_path(Preset.DEFAULT).read_text(encoding="utf-8")


def test_diff_flags_a_larger_audit_budget_as_loosening() -> None:
    """Raising the audit's epsilon loosens privacy; moving a threshold does not."""
    old = load_preset(Preset.DEFAULT)
    outcomes = replace(old.audit.outcomes, epsilon=2.0, min_lift=0.05)
    new = replace(old, audit=replace(old.audit, outcomes=outcomes))
    changes = {c.field: c.loosens for c in diff_policies(old, new)}
    assert changes == {"audit.outcomes.epsilon": True, "audit.outcomes.min_lift": False}


def test_explain_states_the_audit_budget() -> None:
    """`policy explain` says how many rounds, which budget and the control share."""
    text = explain_policy(load_preset(Preset.DEFAULT))
    assert "Outcome audits: on. At most 4 query rounds per 28 days" in text
    assert "5% of people form a random control group" in text


@pytest.mark.parametrize(("epsilon", "rounds", "rate"), [(1.0, 4, 1.0), (0.5, 1, 0.3)])
def test_calibrated_noise_is_minimal_and_never_overspends(
    epsilon: float, rounds: int, rate: float
) -> None:
    """The calibrated multiplier keeps epsilon within budget; 1% less noise would not."""
    z = calibrate_noise_multiplier(epsilon=epsilon, delta=1e-5, rounds=rounds, sampling_rate=rate)

    def spent(noise: float) -> float:
        return compute_epsilon(
            noise_multiplier=noise, sampling_rate=rate, rounds=rounds, delta=1e-5
        ).epsilon

    assert spent(z) <= epsilon < spent(z * 0.99)
