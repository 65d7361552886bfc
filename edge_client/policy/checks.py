"""Cross-field checks of a well-typed policy: contradictions, the epsilon budget, node ids.

Each check returns :class:`~edge_client.policy.problems.Problem` findings (errors make the
policy unusable, warnings do not) naming the file, field and line.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from edge_client.policy.accounting import compute_epsilon
from edge_client.policy.errors import AccountantUnavailableError, PolicyError
from edge_client.policy.lines import line_of
from edge_client.policy.model import (
    Fallback,
    Policy,
    Purpose,
    Signal,
    SpecialCategory,
    StoredItem,
    Trait,
)
from edge_client.policy.problems import Problem, Severity

if TYPE_CHECKING:
    from edge_client.taxonomy import Taxonomy

__all__ = ["check_contradictions", "check_epsilon", "check_nodes"]

_CAPS = ("max_per_item_per_day", "max_per_category_per_day", "max_per_hour", "max_per_day")
_TEXT_SIGNALS = frozenset(
    {Signal.REVIEW_TEXT, Signal.COMMENT_TEXT, Signal.POST_TEXT, Signal.MESSAGE_TEXT}
)


class _Findings:
    """Collects problems for one document."""

    def __init__(self, source: str, lines: Mapping[str, int]) -> None:
        self.source, self.lines, self.items = source, lines, list[Problem]()

    def add(self, field: str, message: str, severity: Severity = Severity.ERROR) -> None:
        self.items.append(
            Problem(self.source, field, line_of(self.lines, field), message, severity)
        )


def _purpose_checks(policy: Policy, out: _Findings) -> None:
    allowed = policy.consent.allowed_purposes
    uses = {
        Purpose.PERSONALIZATION: ("personalization.enabled", policy.personalization.enabled),
        Purpose.FEDERATED_TRAINING: ("federated.enabled", policy.federated.enabled),
        Purpose.PROFILING: ("inference", any(policy.inference.trait(t).allowed for t in Trait)),
    }
    for purpose, (field, used) in uses.items():
        if used and purpose not in allowed:
            out.add(
                field, f"is on but purpose {purpose.value!r} is not in consent.allowed_purposes"
            )


def _signal_and_trait_checks(policy: Policy, out: _Findings) -> None:
    signals, inference = policy.signals, policy.inference
    for signal in sorted(signals.allowed & signals.forbidden, key=lambda s: s.value):
        out.add("signals.forbidden", f"{signal.value!r} is both allowed and forbidden")
    if any(inference.trait(t).allowed for t in Trait) and not signals.allowed & _TEXT_SIGNALS:
        out.add(
            "signals.allowed",
            "traits may be inferred but no text signal is allowed",
            Severity.WARNING,
        )
    for category in sorted(
        set(SpecialCategory) - inference.forbidden_special_categories, key=lambda c: c.value
    ):
        out.add(
            "inference.forbidden_special_categories",
            f"GDPR Art. 9 category {category.value!r} is not forbidden",
            Severity.WARNING,
        )


def _personalization_checks(policy: Policy, out: _Findings) -> None:
    rules = policy.personalization
    if rules.enabled:
        zero = [cap for cap in _CAPS if getattr(rules, cap) == 0]
        if zero:
            field = "personalization." + zero[0]
            out.add(
                field,
                f"personalization is on but {', '.join(zero)} "
                f"{'is' if len(zero) == 1 else 'are'} 0, so nothing can ever be shown",
            )
        if not any(policy.inference.trait(t).allowed for t in Trait):
            out.add(
                "personalization.enabled",
                "personalization is on but no trait may be inferred",
                Severity.WARNING,
            )
    if rules.max_per_hour > rules.max_per_day:
        out.add(
            "personalization.max_per_hour",
            "exceeds max_per_day, so it can never bind",
            Severity.WARNING,
        )
    if rules.style_variants and not policy.inference.decision_style.allowed:
        out.add(
            "personalization.style_variants",
            "decision style may choose a variant but inference.decision_style.allowed is false",
        )
    if (
        Purpose.THIRD_PARTY_TOPICS in policy.consent.allowed_purposes
        and rules.third_party_noise_share == 0
    ):
        out.add(
            "personalization.third_party_noise_share",
            "third-party topics are allowed without any noise",
            Severity.WARNING,
        )


def _retention_checks(policy: Policy, out: _Findings) -> None:
    retention = policy.retention
    for item in sorted(retention.keep, key=lambda i: i.value):
        if retention.ttl_days(item) == 0:
            field = (
                "retention."
                + {
                    "profile": "profile_ttl_days",
                    "engagement_events": "engagement_ttl_days",
                    "training_examples": "training_examples_ttl_days",
                    "audit_log": "audit_log_ttl_days",
                }[item.value]
            )
            out.add(field, f"{item.value!r} is kept but its TTL is 0 days")


def _storage_checks(policy: Policy, out: _Findings) -> None:
    retention, personalization = policy.retention, policy.personalization
    if policy.federated.enabled and StoredItem.TRAINING_EXAMPLES not in retention.keep:
        out.add(
            "retention.keep",
            "federated training is on but training examples are not "
            "kept, so the device has nothing to train on",
            Severity.WARNING,
        )
    if personalization.enabled:
        if StoredItem.ENGAGEMENT_EVENTS not in retention.keep:
            out.add(
                "retention.keep",
                "personalization is on but engagement events are not "
                "kept, so caps and fatigue cannot be enforced",
                Severity.WARNING,
            )
        elif personalization.dismissal_suppression_hours > 24 * retention.engagement_ttl_days:
            out.add(
                "retention.engagement_ttl_days",
                "is shorter than "
                "personalization.dismissal_suppression_hours, so dismissals are forgotten "
                "early",
                Severity.WARNING,
            )


def _federated_checks(policy: Policy, out: _Findings) -> None:
    fed = policy.federated
    if not fed.enabled:
        return
    if fed.dp_required and fed.noise_multiplier == 0:
        out.add(
            "federated.noise_multiplier",
            "differential privacy is required but the noise multiplier is 0",
        )
    if fed.max_participation_per_period > fed.rounds_per_period:
        out.add(
            "federated.max_participation_per_period",
            "exceeds rounds_per_period, so it can never bind",
            Severity.WARNING,
        )


def _outcome_audit_checks(policy: Policy, out: _Findings) -> None:
    rules = policy.audit.outcomes
    if not rules.enabled:
        return
    if rules.period_days < rules.cadence_days:
        out.add(
            "audit.outcomes.period_days",
            f"is shorter than audit.outcomes.cadence_days ({rules.cadence_days}), so no "
            "audit round fits in a period",
        )
    if not policy.personalization.enabled:
        out.add(
            "audit.outcomes.enabled",
            "outcome audits are on but personalization is off, so there is nothing to audit",
            Severity.WARNING,
        )
    if rules.control_share == 0:
        out.add(
            "audit.outcomes.control_share",
            "is 0: with no control group the lift of personalization cannot be measured",
            Severity.WARNING,
        )
    elif policy.personalization.fallback is Fallback.NONE:
        out.add(
            "audit.outcomes.control_share",
            "the control group sees generic content, but personalization.fallback is 'none', "
            "so it would see nothing and the lift cannot be measured",
            Severity.WARNING,
        )


def check_contradictions(policy: Policy, *, source: str, lines: Mapping[str, int]) -> list[Problem]:
    """Return the contradictions between fields of ``policy``.

    Parameters
    ----------
    policy
        A well-typed policy.
    source
        Name used in messages.
    lines
        Dotted path to source line.

    Returns
    -------
    list[Problem]
        Errors (unusable combinations) and warnings (suspicious ones).
    """
    out = _Findings(source, lines)
    _purpose_checks(policy, out)
    _signal_and_trait_checks(policy, out)
    _personalization_checks(policy, out)
    _retention_checks(policy, out)
    _storage_checks(policy, out)
    _federated_checks(policy, out)
    _outcome_audit_checks(policy, out)
    return out.items


def check_epsilon(policy: Policy, *, source: str, lines: Mapping[str, int]) -> list[Problem]:
    """Check with the RDP accountant that the federated settings meet the target epsilon.

    Parameters
    ----------
    policy
        A well-typed policy.
    source
        Name used in messages.
    lines
        Dotted path to source line.

    Returns
    -------
    list[Problem]
        An error when the target cannot be met or the check could not run.
    """
    fed, out = policy.federated, _Findings(source, lines)
    if not fed.enabled or not fed.dp_required:
        return out.items
    try:
        report = compute_epsilon(
            noise_multiplier=fed.noise_multiplier,
            sampling_rate=fed.sampling_rate,
            rounds=fed.rounds_per_period,
            delta=fed.target_delta,
            max_participation=fed.max_participation_per_period,
        )
    except AccountantUnavailableError as exc:
        # dp-accounting is a dependency of the base install: a policy is never passed (or
        # signed) without its epsilon check, even on a broken installation.
        out.add("federated.target_epsilon", f"epsilon check could not run: {exc}")
        return out.items
    except PolicyError as exc:
        out.add("federated.noise_multiplier", str(exc))
        return out.items
    if report.epsilon > fed.target_epsilon:
        out.add(
            "federated.target_epsilon",
            f"target {fed.target_epsilon:g} cannot be met: noise multiplier "
            f"{fed.noise_multiplier:g}, sampling rate {fed.sampling_rate:g} and "
            f"{fed.rounds_per_period} rounds (at most {fed.max_participation_per_period} "
            f"per client) give epsilon {report.epsilon:.3g} at delta "
            f"{fed.target_delta:g}",
        )
    return out.items


def check_nodes(
    policy: Policy, taxonomy: Taxonomy, *, source: str, lines: Mapping[str, int]
) -> list[Problem]:
    """Check that every forbidden node id exists in ``taxonomy``.

    Parameters
    ----------
    policy
        A well-typed policy.
    taxonomy
        The taxonomy the device uses.
    source
        Name used in messages.
    lines
        Dotted path to source line.

    Returns
    -------
    list[Problem]
        An error per unknown node id (a typo would silently block nothing).
    """
    out = _Findings(source, lines)
    for node in sorted(policy.inference.forbidden_nodes - set(taxonomy.nodes)):
        out.add("inference.forbidden_nodes", f"node {node!r} is not in the taxonomy")
    return out.items
