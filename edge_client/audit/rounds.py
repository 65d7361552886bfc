"""An audit query round's configuration, and every reason a device refuses one.

The server announces, in the round's config record: the policy hash, the questions, the
noise multiplier ``z``, the fewest replies it will aggregate (``min_replies``), its
sampling rate and the round number. The device checks them against its own signed policy
(:func:`audit_refusals`): audits on, personalization consented, same policy, known
questions, a rate no higher than the policy's, ``min_replies`` at least the policy's k,
``z`` at least what the audit budget needs for the policy's rounds per period
(:func:`required_noise_multiplier`, computed with ``dp_accounting``), and its own count of
rounds in the trailing period and the time since its last one. It then adds Gaussian
noise of standard deviation ``z · sensitivity / sqrt(min_replies)`` to its contribution,
so any ``min_replies`` noisy replies sum to at least the noise the budget was computed for.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

from edge_client.audit.errors import AuditError
from edge_client.audit.layout import Layout, Question, layout_for
from edge_client.policy.accounting import calibrate_noise_multiplier
from edge_client.policy.consent import ConsentState
from edge_client.policy.engine import PolicyEngine
from edge_client.policy.model import OutcomeAuditRules, Purpose

__all__ = [
    "AuditKey",
    "AuditPlan",
    "audit_refusals",
    "device_sigma",
    "parse_audit_plan",
    "required_noise_multiplier",
]

_DAY = 86400.0
_SLACK = 3600.0  # clocks differ: a round an hour early still counts as on cadence


class AuditKey(enum.Enum):
    """Keys of an audit round's config record."""

    POLICY_HASH = "policy_hash"
    QUESTIONS = "questions"
    NOISE_MULTIPLIER = "noise_multiplier"
    MIN_REPLIES = "min_replies"
    SAMPLING_RATE = "sampling_rate"
    ROUND = "round"
    SIMULATED_AT = "simulated_at"
    """SIMULATION only: the virtual time of the round (a simulated device's clock)."""


@dataclass(frozen=True)
class AuditPlan:
    """A parsed audit round config.

    Attributes
    ----------
    layout : Layout
        The questions asked and the contribution layout.
    noise_multiplier : float
        ``z``: total noise standard deviation over the sensitivity, for ``min_replies``.
    min_replies : int
        Fewest replies the server aggregates.
    sampling_rate : float
        The server's Poisson sampling rate.
    round : int
        The round number.
    """

    layout: Layout
    noise_multiplier: float
    min_replies: int
    sampling_rate: float
    round: int


@lru_cache(maxsize=32)
def required_noise_multiplier(rules: OutcomeAuditRules) -> float:
    """Return the least ``z`` that keeps ``rounds_per_period`` rounds within the audit budget.

    Parameters
    ----------
    rules : OutcomeAuditRules
        The policy's ``[audit.outcomes]``.

    Returns
    -------
    float
        The calibrated noise multiplier (rounded up).
    """
    return calibrate_noise_multiplier(
        epsilon=rules.epsilon,
        delta=rules.delta,
        rounds=rules.rounds_per_period,
        sampling_rate=rules.sampling_rate,
    )


def device_sigma(plan: AuditPlan) -> float:
    """Return the standard deviation of the noise one device adds to each cell."""
    return plan.noise_multiplier * plan.layout.sensitivity / math.sqrt(plan.min_replies)


def _number(config: Mapping[str, object], key: AuditKey) -> float | None:
    value = config.get(key.value)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def parse_audit_plan(config: Mapping[str, object]) -> AuditPlan:
    """Parse an audit round config (after :func:`audit_refusals` found nothing).

    Raises
    ------
    AuditError
        Naming the key that is missing or malformed.
    """
    raw = config.get(AuditKey.QUESTIONS.value)
    names = [n.strip() for n in raw.split(",") if n.strip()] if isinstance(raw, str) else []
    known = {q.value: q for q in Question}
    if not names or any(n not in known for n in names):
        raise AuditError(
            f"audit round: key {AuditKey.QUESTIONS.value!r} must list questions among "
            f"{sorted(known)}"
        )
    z = _number(config, AuditKey.NOISE_MULTIPLIER)
    replies = _number(config, AuditKey.MIN_REPLIES)
    rate = _number(config, AuditKey.SAMPLING_RATE)
    number = _number(config, AuditKey.ROUND)
    if z is None or z <= 0 or replies is None or replies < 1 or rate is None or not 0 < rate <= 1:
        raise AuditError(
            "audit round: keys 'noise_multiplier' (> 0), 'min_replies' (>= 1) and "
            "'sampling_rate' (0, 1] are required"
        )
    return AuditPlan(
        layout_for(known[n] for n in names),
        z,
        int(replies),
        rate,
        int(number) if number is not None else 0,
    )


def audit_refusals(
    engine: PolicyEngine,
    config: Mapping[str, object],
    *,
    consent: ConsentState | None,
    history: Sequence[float],
    now: float,
) -> list[str]:
    """Return every reason a device must refuse an audit round (empty: it may answer).

    Parameters
    ----------
    engine : PolicyEngine
        The device's policy.
    config : Mapping[str, object]
        The round's config record (keys :class:`AuditKey`).
    consent : ConsentState or None
        The person's consent (audits need the personalization opt-in).
    history : sequence of float
        When the device answered earlier rounds (POSIX seconds).
    now : float
        The device's time now.

    Returns
    -------
    list of str
        Reasons in plain words, naming the rule (never user data).
    """
    rules = engine.policy.audit.outcomes
    if not rules.enabled:
        return ["outcome audits are off in the policy (audit.outcomes.enabled)"]
    reasons: list[str] = []
    if consent is not None and not consent.allows(Purpose.PERSONALIZATION):
        reasons.append("personalization is not consented, so there is nothing to audit")
    if config.get(AuditKey.POLICY_HASH.value) != engine.policy_hash:
        reasons.append("round policy hash does not match the policy in force")
    try:
        plan = parse_audit_plan(config)
    except AuditError as exc:
        return [*reasons, str(exc)]
    if plan.sampling_rate > rules.sampling_rate:
        reasons.append(f"sampling rate above audit.outcomes.sampling_rate {rules.sampling_rate:g}")
    if plan.min_replies < rules.min_cohort:
        reasons.append(f"fewer than audit.outcomes.min_cohort={rules.min_cohort} replies")
    needed = required_noise_multiplier(rules)
    if plan.noise_multiplier < needed:
        reasons.append(
            f"noise multiplier {plan.noise_multiplier:g} below the {needed:g} that keeps "
            f"{rules.rounds_per_period} rounds within epsilon {rules.epsilon:g}"
        )
    recent = [t for t in history if now - t < rules.period_days * _DAY]
    if len(recent) >= rules.rounds_per_period:
        reasons.append(
            f"this device already answered {len(recent)} audit rounds in the last "
            f"{rules.period_days} days (at most {rules.rounds_per_period})"
        )
    if recent and now - max(recent) < rules.cadence_days * _DAY - _SLACK:
        reasons.append(f"the last audit round was less than {rules.cadence_days} days ago")
    return reasons
