from dataclasses import replace

import numpy as np
import pytest

from edge_client.audit import (
    AuditKey,
    Question,
    audit_refusals,
    device_sigma,
    parse_audit_plan,
    required_noise_multiplier,
)
from edge_client.policy import Policy, PolicyEngine, Preset, Purpose, load_preset
from edge_client.taxonomy import load_taxonomy

DAY = 86400.0


@pytest.fixture(scope="module")
def engine() -> PolicyEngine:
    """The default policy's engine."""
    return PolicyEngine(load_preset(Preset.DEFAULT), load_taxonomy())


def _config(engine: PolicyEngine, **changes: object) -> dict[str, object]:
    rules = engine.policy.audit.outcomes
    config: dict[str, object] = {
        AuditKey.POLICY_HASH.value: engine.policy_hash,
        AuditKey.QUESTIONS.value: "exposure,lift",
        AuditKey.NOISE_MULTIPLIER.value: required_noise_multiplier(rules),
        AuditKey.MIN_REPLIES.value: rules.min_cohort,
        AuditKey.SAMPLING_RATE.value: rules.sampling_rate,
        AuditKey.ROUND.value: 1,
    }
    config.update({k.replace("__", "-"): v for k, v in changes.items()})
    return config


def _reasons(
    engine: PolicyEngine,
    config: dict[str, object],
    *,
    history: tuple[float, ...] = (),
    now: float = 100 * DAY,
) -> list[str]:
    consent = engine.consent_state([Purpose.PERSONALIZATION])
    return audit_refusals(engine, config, consent=consent, history=history, now=now)


def test_a_round_within_the_policy_is_answered(engine: PolicyEngine) -> None:
    """The server's honest config passes; the plan parses with the asked questions."""
    config = _config(engine)
    assert _reasons(engine, config) == []
    plan = parse_audit_plan(config)
    assert plan.layout.questions == (Question.EXPOSURE, Question.LIFT)
    z = required_noise_multiplier(engine.policy.audit.outcomes)
    assert device_sigma(plan) == pytest.approx(z * np.sqrt(2) / 10.0)  # sqrt(2) / sqrt(100)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"policy_hash": "0" * 64}, "policy hash"),
        ({"questions": "exposure,secrets"}, "must list questions"),
        ({"noise_multiplier": 1.0}, "noise multiplier 1 below"),
        ({"min_replies": 10}, "min_cohort=100"),
        ({"sampling_rate": 2.0}, "'sampling_rate' (0, 1]"),
    ],
)
def test_each_departure_from_the_policy_is_refused(
    engine: PolicyEngine, change: dict[str, object], reason: str
) -> None:
    """Every key the server could bend is checked against the device's own policy."""
    assert any(reason in r for r in _reasons(engine, _config(engine, **change)))


def test_participation_and_cadence_are_enforced_by_the_device(engine: PolicyEngine) -> None:
    """At most 4 rounds per 28 days, and not sooner than 7 days after the last."""
    now = 100 * DAY
    weekly = tuple(now - k * DAY for k in (7, 14, 21, 27))
    assert any(
        "already answered 4" in r
        for r in _reasons(engine, _config(engine), history=weekly, now=now)
    )
    assert any(
        "less than 7 days" in r
        for r in _reasons(engine, _config(engine), history=(now - 2 * DAY,), now=now)
    )
    assert _reasons(engine, _config(engine), history=(now - 7 * DAY,), now=now) == []


def test_disabled_audits_and_missing_consent_refuse(engine: PolicyEngine) -> None:
    """Audits off in the policy, or no personalization opt-in: refused."""
    policy: Policy = engine.policy
    off = replace(
        policy, audit=replace(policy.audit, outcomes=replace(policy.audit.outcomes, enabled=False))
    )
    off_engine = PolicyEngine(off, load_taxonomy())
    assert "audits are off" in _reasons(off_engine, _config(off_engine))[0]
    refused = audit_refusals(
        engine, _config(engine), consent=engine.consent_state([]), history=(), now=0.0
    )
    assert any("personalization is not consented" in r for r in refused)
