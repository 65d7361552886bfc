"""Review tools: ``explain`` a policy in plain words and ``diff`` two versions.

:func:`diff_policies` lists every changed field and flags each change that loosens
privacy, using the direction each :class:`~edge_client.policy.fields.FieldSpec` declares
(higher caps, lower k, higher epsilon, fewer forbidden categories, longer retention,
consent no longer required, ...).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from edge_client.policy.canonical import field_value, jsonable
from edge_client.policy.fields import FIELDS, Loosening
from edge_client.policy.model import Policy, Purpose, StoredItem, Trait

if TYPE_CHECKING:
    from edge_client.taxonomy import Taxonomy

__all__ = ["Change", "diff_policies", "explain_policy", "format_changes"]


def _words(items: Iterable[enum.Enum | str]) -> str:
    names = sorted(str(i.value if isinstance(i, enum.Enum) else i).replace("_", " ") for i in items)
    return ", ".join(names) if names else "nothing"


def _inference_lines(policy: Policy, taxonomy: Taxonomy | None) -> list[str]:
    rules, lines = policy.inference, []
    for trait in Trait:
        rule, name = rules.trait(trait), trait.value.replace("_", " ")
        if rule.allowed:
            lines.append(
                f"- {name.capitalize()} may be inferred; it is used only with at least "
                f"{rule.min_words} words of the person's own text and confidence "
                f"{rule.min_confidence:g} or more."
            )
        else:
            lines.append(f"- {name.capitalize()} is never inferred.")
    lines.append(f"- A profile keeps at most {rules.max_interests} interests.")
    lines.append(
        "- FORBIDDEN: interests in these special categories (GDPR Art. 9) are never "
        f"inferred, stored or targeted: {_words(rules.forbidden_special_categories)}"
        " (every marked node and everything under it)."
    )
    if rules.forbidden_nodes:
        nodes = sorted(rules.forbidden_nodes)
        if taxonomy is not None:
            nodes = [f"{n} ({taxonomy.path(n)})" if n in taxonomy.nodes else n for n in nodes]
        lines.append(
            f"- FORBIDDEN: these taxonomy nodes and everything under them: {', '.join(nodes)}."
        )
    return lines


def _personalization_lines(policy: Policy) -> list[str]:
    p = policy.personalization
    if not p.enabled:
        return [f"- Off; everyone gets {p.fallback.value} content."]
    style = "may" if p.style_variants else "may not"
    return [
        f"- On. At most {p.max_per_hour} per hour, {p.max_per_day} per day, "
        f"{p.max_per_item_per_day} per item per day, {p.max_per_category_per_day} per "
        "category per day.",
        f"- A dismissed item stays hidden {p.dismissal_suppression_hours} h; an item shown "
        f"{p.fatigue_after_impressions} times without engagement rests "
        f"{p.fatigue_cooldown_hours} h.",
        f"- {p.exploration_share:.0%} of picks explore at random; fallback: "
        f"{p.fallback.value} content.",
        f"- Decision style {style} choose between variants of the same offer (never a "
        "different offer or a pressure tactic).",
        (
            f"- A third party sees at most {p.third_party_max_interests} interest(s), "
            f"{p.third_party_noise_share:.0%} of them random."
            if p.third_party_max_interests
            else "- No interest is ever shown to a third party."
        ),
    ]


def explain_policy(policy: Policy, taxonomy: Taxonomy | None = None) -> str:
    """Describe in plain words what ``policy`` allows and forbids.

    Parameters
    ----------
    policy
        A validated policy.
    taxonomy
        When given, forbidden node ids are shown with their labels.

    Returns
    -------
    str
        A multi-line explanation.
    """
    consent, signals, retention, fed, audit = (
        policy.consent,
        policy.signals,
        policy.retention,
        policy.federated,
        policy.audit,
    )
    denied = set(Purpose) - consent.allowed_purposes
    kept = [
        f"{i.value.replace('_', ' ')} ({retention.ttl_days(i)} days)"
        for i in StoredItem
        if i in retention.keep
    ]
    lines = [f"Policy {policy.name!r}, version {policy.version}."]
    if policy.policy.description:
        lines.append(policy.policy.description)
    lines += [
        "",
        "Purposes and consent:",
        f"- Allowed: {_words(consent.allowed_purposes)}.",
        f"- Never: {_words(denied)}.",
        f"- Needs the person's explicit opt-in: {_words(consent.opt_in_required)}.",
        "",
        "Signals:",
        f"- May be profiled: {_words(signals.allowed - signals.forbidden)}.",
        f"- Never profiled: {_words(signals.forbidden)} (and anything not listed).",
        "",
        "Inference:",
        *_inference_lines(policy, taxonomy),
        "",
        "Personalization:",
        *_personalization_lines(policy),
        "",
        "Retention:",
        f"- The device keeps: {', '.join(kept) if kept else 'nothing'}; raw text is never kept.",
        f"- Profile evidence loses half its weight every {retention.profile_half_life_days:g}"
        " days.",
        "",
        "Federated training:",
    ]
    if fed.enabled:
        dp = (
            f"noise multiplier {fed.noise_multiplier:g} is required, for epsilon <= "
            f"{fed.target_epsilon:g} at delta {fed.target_delta:g}"
            if fed.dp_required
            else "differential privacy is NOT required"
        )
        lines += [
            f"- On. A round needs at least {fed.min_cohort} clients; each client is sampled "
            f"with probability {fed.sampling_rate:g} and joins at most "
            f"{fed.max_participation_per_period} of {fed.rounds_per_period} rounds per "
            f"{fed.period_days} days.",
            f"- Updates are clipped to norm {fed.clipping_norm:g}; {dp} per user per period.",
            f"- Clients may report: {_words(fed.allowed_metrics)}; secure aggregation is "
            f"{'required' if fed.secure_aggregation else 'not required'}.",
        ]
    else:
        lines.append("- Off; the device never joins a round.")
    lines += [
        "",
        "Audit:",
        f"- The device logs: {_words(audit.device_log)} (never user text).",
        f"- The server may run: {_words(audit.server_audits)}.",
        *_outcome_lines(policy),
    ]
    return "\n".join(lines)


def _outcome_lines(policy: Policy) -> list[str]:
    rules = policy.audit.outcomes
    if not rules.enabled:
        return ["- Outcome audits: off; the device never answers an audit query."]
    return [
        f"- Outcome audits: on. At most {rules.rounds_per_period} query rounds per "
        f"{rules.period_days} days (one every {rules.cadence_days} or more), each device "
        f"sampled with probability {rules.sampling_rate:g}, together at most epsilon "
        f"{rules.epsilon:g} at delta {rules.delta:g} per person (on top of the federated "
        "training budget); devices send only clipped, noised outcome counts.",
        f"- Replies are aggregated only from at least {rules.min_cohort} devices; "
        f"{rules.control_share:.0%} of people form a random control group that sees generic "
        "content.",
        f"- Flags: a sponsored-offer share differing by more than {rules.disparity_threshold:g} "
        f"between style buckets; engagement at the fatigue limit down by more than "
        f"{rules.fatigue_max_drop:.0%}; a lift over the control below {rules.min_lift:g}.",
    ]


@dataclass(frozen=True)
class Change:
    """One field that differs between two policies.

    Parameters
    ----------
    field
        Dotted path.
    old, new
        JSON forms of the two values.
    loosens
        Whether the change loosens privacy.
    note
        What was added/removed, or which direction loosens.
    """

    field: str
    old: object
    new: object
    loosens: bool
    note: str

    def __str__(self) -> str:
        """Format as one line, flagged when it loosens privacy."""
        flag = "  LOOSENS PRIVACY" if self.loosens else ""
        return f"{self.field}: {self.old!r} -> {self.new!r}{flag} ({self.note})"


def _loosens(rule: Loosening, old: object, new: object) -> tuple[bool, str]:
    if isinstance(old, frozenset) and isinstance(new, frozenset):
        added, removed = jsonable(new - old), jsonable(old - new)
        note = f"added {added}, removed {removed}"
        return (
            (rule is Loosening.MORE and bool(added)) or (rule is Loosening.FEWER and bool(removed))
        ), note
    if rule is Loosening.TRUE:
        return bool(new) and not bool(old), rule.value
    if rule is Loosening.FALSE:
        return bool(old) and not bool(new), rule.value
    if (
        rule in (Loosening.HIGHER, Loosening.LOWER)
        and isinstance(old, int | float)
        and isinstance(new, int | float)
    ):
        return (new > old) if rule is Loosening.HIGHER else (new < old), rule.value
    return False, rule.value


def diff_policies(old: Policy, new: Policy) -> list[Change]:
    """List every changed field between ``old`` and ``new``, flagging loosenings.

    Parameters
    ----------
    old, new
        Two versions of a policy.

    Returns
    -------
    list[Change]
        In field order; empty when the policies are equal.
    """
    changes: list[Change] = []
    for spec in FIELDS:
        before, after = field_value(old, spec.path), field_value(new, spec.path)
        if before == after:
            continue
        loosens, note = _loosens(spec.loosening, before, after)
        changes.append(Change(spec.path, jsonable(before), jsonable(after), loosens, note))
    return changes


def format_changes(changes: Iterable[Change]) -> str:
    """Render changes one per line with a summary line.

    Parameters
    ----------
    changes
        From :func:`diff_policies`.

    Returns
    -------
    str
        The report.
    """
    items = list(changes)
    if not items:
        return "no changes"
    loosening = sum(1 for c in items if c.loosens)
    lines = [str(c) for c in items]
    lines.append(f"{len(items)} change(s), {loosening} loosening privacy")
    return "\n".join(lines)
