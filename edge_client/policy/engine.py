"""The policy engine: one object the edge client and the server both ask.

:class:`PolicyEngine` answers every boundary question of a :class:`~.model.Policy` over a
taxonomy: which interests may exist at all (forbidden special categories and nodes are
dropped with their descendants, whatever a model outputs), when a trait has enough
evidence, which purposes need consent, the personalization caps, retention, and whether a
client should join a federated round.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterable, Mapping
from datetime import timedelta
from operator import itemgetter
from typing import TYPE_CHECKING

from edge_client.policy.canonical import policy_hash
from edge_client.policy.consent import ConsentState
from edge_client.policy.errors import UnknownNodeError
from edge_client.policy.model import (
    AuditRules,
    FederatedRules,
    PersonalizationRules,
    Policy,
    Purpose,
    RetentionRules,
    Signal,
    StoredItem,
    Trait,
)

if TYPE_CHECKING:
    from edge_client.taxonomy import Taxonomy

__all__ = ["PolicyEngine", "RoundKey"]


class RoundKey(enum.Enum):
    """Keys of a federated round's configuration that clients check."""

    POLICY_HASH = "policy_hash"
    COHORT_SIZE = "cohort_size"
    SAMPLING_RATE = "sampling_rate"
    CLIPPING_NORM = "clipping_norm"
    NOISE_MULTIPLIER = "noise_multiplier"
    SECURE_AGGREGATION = "secure_aggregation"
    METRICS = "metrics"


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _names(value: object) -> list[str]:
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    if isinstance(value, list | tuple):
        return [str(item) for item in value]
    return []


class PolicyEngine:
    """Enforce one policy over one taxonomy.

    Parameters
    ----------
    policy
        A validated policy.
    taxonomy
        The interest taxonomy in use.

    Raises
    ------
    UnknownNodeError
        When the policy forbids a node the taxonomy does not contain (a typo there would
        silently block nothing).
    """

    def __init__(self, policy: Policy, taxonomy: Taxonomy) -> None:
        self._policy = policy
        self._taxonomy = taxonomy
        self._hash = policy_hash(policy)
        rules = policy.inference
        unknown = sorted(rules.forbidden_nodes - set(taxonomy.nodes))
        if unknown:
            raise UnknownNodeError(
                f"policy {policy.name!r} v{policy.version}: "
                f"inference.forbidden_nodes: unknown node ids {unknown}"
            )
        blocked = set(rules.forbidden_nodes)
        for node in rules.forbidden_nodes:
            blocked |= taxonomy.descendants(node)
        for node in taxonomy.nodes:
            if taxonomy.special_category(node) in rules.forbidden_special_categories:
                blocked.add(node)
        self._blocked = frozenset(blocked)
        # What may be inferred at all, looked up once per node of every profile.
        self._inferable = frozenset(taxonomy.nodes) - self._blocked

    @property
    def policy(self) -> Policy:
        """Return the policy enforced."""
        return self._policy

    @property
    def policy_hash(self) -> str:
        """Return the SHA-256 of the policy's canonical bytes."""
        return self._hash

    @property
    def blocked_nodes(self) -> frozenset[str]:
        """Return every taxonomy node that may never be inferred, stored or targeted."""
        return self._blocked

    # inference ---------------------------------------------------------------------
    def is_interest_allowed(self, node_id: str) -> bool:
        """Return whether ``node_id`` may be inferred, stored or targeted.

        Parameters
        ----------
        node_id
            A taxonomy node id; unknown ids are not allowed.

        Returns
        -------
        bool
            ``False`` for forbidden nodes, their descendants and unknown ids.
        """
        return node_id in self._taxonomy.nodes and node_id not in self._blocked

    def filter_interests(self, scores: Mapping[str, float]) -> dict[str, float]:
        """Keep the allowed interests of a model's output, top ``max_interests`` first.

        Parameters
        ----------
        scores
            Node id to score, as any model outputs them.

        Returns
        -------
        dict[str, float]
            At most ``inference.max_interests`` allowed nodes with finite scores, highest
            first; empty when interests may not be inferred at all.
        """
        if not self._policy.inference.interests.allowed:
            return {}
        inferable, isfinite = self._inferable, math.isfinite
        kept = [
            (node, score)
            for node, score in zip(scores, map(float, scores.values()), strict=True)
            if node in inferable and isfinite(score)
        ]
        # Highest score first, ties by node id: two stable sorts with C key functions.
        kept.sort(key=itemgetter(0))
        kept.sort(key=itemgetter(1), reverse=True)
        return dict(kept[: self._policy.inference.max_interests])

    def may_use_trait(self, trait: Trait, *, words: int, confidence: float) -> bool:
        """Return whether an inferred ``trait`` has enough evidence to be used.

        Parameters
        ----------
        trait
            The trait.
        words
            Words of the person's own text behind the inference.
        confidence
            The model's confidence, in [0, 1].

        Returns
        -------
        bool
            ``True`` when the trait is allowed and both minimums are met.
        """
        rule = self._policy.inference.trait(trait)
        return rule.allowed and words >= rule.min_words and confidence >= rule.min_confidence

    def may_choose_variant(self, *, words: int, confidence: float) -> bool:
        """Return whether decision style may choose the content variant shown.

        Parameters
        ----------
        words
            Words of the person's own text behind the decision-style estimate.
        confidence
            The estimate's confidence.

        Returns
        -------
        bool
            ``True`` when personalization and style variants are on and the evidence
            suffices.
        """
        rules = self._policy.personalization
        return (
            rules.enabled
            and rules.style_variants
            and self.may_use_trait(Trait.DECISION_STYLE, words=words, confidence=confidence)
        )

    def is_signal_allowed(self, signal: Signal) -> bool:
        """Return whether ``signal`` may be profiled.

        Parameters
        ----------
        signal
            The input.

        Returns
        -------
        bool
            ``True`` when listed in ``signals.allowed`` and not in ``signals.forbidden``.
        """
        rules = self._policy.signals
        return signal in rules.allowed and signal not in rules.forbidden

    # consent -----------------------------------------------------------------------
    def consent_required(self, purpose: Purpose) -> bool:
        """Return whether ``purpose`` needs the person's explicit opt-in.

        Parameters
        ----------
        purpose
            The purpose.

        Returns
        -------
        bool
            ``True`` when listed in ``consent.opt_in_required``.
        """
        return purpose in self._policy.consent.opt_in_required

    def is_purpose_allowed(self, purpose: Purpose) -> bool:
        """Return whether the policy allows ``purpose`` at all.

        Parameters
        ----------
        purpose
            The purpose.

        Returns
        -------
        bool
            ``True`` when listed in ``consent.allowed_purposes``.
        """
        return purpose in self._policy.consent.allowed_purposes

    def consent_state(self, granted: Iterable[Purpose] = ()) -> ConsentState:
        """Return a consent state bound to this policy's consent rules.

        Parameters
        ----------
        granted
            Purposes the person already opted in to.

        Returns
        -------
        ConsentState
            Shared, mutable consent state.
        """
        return ConsentState(self._policy.consent, granted)

    # personalization, retention, audit ---------------------------------------------
    @property
    def personalization(self) -> PersonalizationRules:
        """Return caps, fatigue, exploration, fallback and third-party noise settings."""
        return self._policy.personalization

    @property
    def retention(self) -> RetentionRules:
        """Return what the device keeps and for how long."""
        return self._policy.retention

    @property
    def federated(self) -> FederatedRules:
        """Return the federated boundaries."""
        return self._policy.federated

    @property
    def audit(self) -> AuditRules:
        """Return the audit settings."""
        return self._policy.audit

    def retention_ttl(self, item: StoredItem) -> timedelta:
        """Return how long ``item`` may be kept (zero when it may not be kept).

        Parameters
        ----------
        item
            What is stored.

        Returns
        -------
        timedelta
            Its time to live.
        """
        return timedelta(days=self._policy.retention.ttl_days(item))

    def decay_factor(self, age: timedelta) -> float:
        """Return the weight left on profile evidence of age ``age``.

        Parameters
        ----------
        age
            How old the evidence is (negative ages count as 0).

        Returns
        -------
        float
            ``0.5 ** (age / half_life)``, and 0 past the profile TTL.
        """
        days = max(age.total_seconds(), 0.0) / 86400.0
        if age > self.retention_ttl(StoredItem.PROFILE):
            return 0.0
        return float(0.5 ** (days / self._policy.retention.profile_half_life_days))

    # federated ---------------------------------------------------------------------
    def filter_metrics(self, metrics: Mapping[str, float]) -> dict[str, float]:
        """Keep only the metrics a client may report.

        Parameters
        ----------
        metrics
            Metric name to value.

        Returns
        -------
        dict[str, float]
            Those named in ``federated.allowed_metrics``.
        """
        allowed = {m.value for m in self._policy.federated.allowed_metrics}
        return {name: value for name, value in metrics.items() if name in allowed}

    def check_round_config(
        self,
        config: Mapping[str, object],
        *,
        participations: int = 0,
        consent: ConsentState | None = None,
    ) -> list[str]:
        """Return the reasons a client must refuse a round (empty: it may join).

        Parameters
        ----------
        config
            The round's configuration, keyed by :class:`RoundKey` values; ``metrics`` is a
            list or a comma-separated string.
        participations
            Rounds this client already joined in the current period.
        consent
            The person's consent state, when known on this side.

        Returns
        -------
        list[str]
            Every reason to refuse, in a fixed order.
        """
        fed, reasons = self._policy.federated, []
        if not fed.enabled:
            return ["federated training is disabled by the policy (federated.enabled)"]
        if consent is not None and not consent.allows(Purpose.FEDERATED_TRAINING):
            reasons.append("federated training is not consented")
        if config.get(RoundKey.POLICY_HASH.value) != self._hash:
            reasons.append("round policy hash does not match the policy in force")
        cohort = _number(config.get(RoundKey.COHORT_SIZE.value))
        if cohort is None or cohort < fed.min_cohort:
            reasons.append(f"cohort size missing or below the minimum k={fed.min_cohort}")
        rate = _number(config.get(RoundKey.SAMPLING_RATE.value))
        if rate is None or not 0 < rate <= fed.sampling_rate:
            reasons.append(f"sampling rate missing or above {fed.sampling_rate:g}")
        norm = _number(config.get(RoundKey.CLIPPING_NORM.value))
        if norm is None or not 0 < norm <= fed.clipping_norm:
            reasons.append(f"clipping norm missing or above {fed.clipping_norm:g}")
        noise = _number(config.get(RoundKey.NOISE_MULTIPLIER.value))
        if fed.dp_required and (noise is None or noise < fed.noise_multiplier):
            reasons.append(
                "differential privacy is required but the noise multiplier is "
                f"missing or below {fed.noise_multiplier:g}"
            )
        if fed.secure_aggregation and config.get(RoundKey.SECURE_AGGREGATION.value) is not True:
            reasons.append("secure aggregation is required but the round does not use it")
        allowed = {m.value for m in fed.allowed_metrics}
        extra = sorted(set(_names(config.get(RoundKey.METRICS.value))) - allowed)
        if extra:
            reasons.append(f"round asks for metrics the policy does not allow: {extra}")
        if participations >= fed.max_participation_per_period:
            reasons.append(
                "this client reached its participation limit for the period "
                f"({fed.max_participation_per_period})"
            )
        return reasons

    def allowed_metric_names(self) -> frozenset[str]:
        """Return the metric names a client may report.

        Returns
        -------
        frozenset[str]
            Values of ``federated.allowed_metrics``.
        """
        return frozenset(m.value for m in self._policy.federated.allowed_metrics)
