"""The parsed policy: enums for every option and frozen dataclasses for every section.

A :class:`Policy` is what :func:`~edge_client.policy.loader.parse_policy` returns after
validation. Field names match the TOML keys one for one (``federated.min_cohort`` is
``policy.federated.min_cohort``); :mod:`edge_client.policy.fields` documents each field.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from edge_client.taxonomy import SpecialCategory

__all__ = [
    "AuditRules",
    "ClientMetric",
    "ConsentRules",
    "DeviceAuditEvent",
    "Fallback",
    "FederatedRules",
    "InferenceRules",
    "OutcomeAuditRules",
    "PersonalizationRules",
    "Policy",
    "PolicyMeta",
    "Purpose",
    "RetentionRules",
    "ServerAudit",
    "Signal",
    "SignalRules",
    "SpecialCategory",
    "StoredItem",
    "Trait",
    "TraitRule",
]


class Purpose(enum.Enum):
    """What the system may use a person's data for."""

    PROFILING = "profiling"
    PERSONALIZATION = "personalization"
    FEDERATED_TRAINING = "federated_training"
    THIRD_PARTY_TOPICS = "third_party_topics"


class Signal(enum.Enum):
    """An input that may be profiled: the person's text by source, or behaviour."""

    REVIEW_TEXT = "review_text"
    COMMENT_TEXT = "comment_text"
    POST_TEXT = "post_text"
    MESSAGE_TEXT = "message_text"
    CONTENT_CATEGORIES_VIEWED = "content_categories_viewed"
    PURCHASES = "purchases"
    ENGAGEMENT_TIME = "engagement_time"
    DEVICE = "device"
    CONTEXT = "context"


class Trait(enum.Enum):
    """A trait the profiler may infer."""

    DECISION_STYLE = "decision_style"
    INTERESTS = "interests"


class Fallback(enum.Enum):
    """What to show when personalization is not possible or not allowed."""

    GENERIC = "generic"
    NONE = "none"


class StoredItem(enum.Enum):
    """What the device may keep (raw text is never kept, whatever the policy)."""

    PROFILE = "profile"
    ENGAGEMENT_EVENTS = "engagement_events"
    TRAINING_EXAMPLES = "training_examples"
    AUDIT_LOG = "audit_log"


class ClientMetric(enum.Enum):
    """An aggregate metric a client may report with its model update."""

    NUM_EXAMPLES = "num_examples"
    LOSS = "loss"
    ACCURACY = "accuracy"
    UPDATE_NORM = "update_norm"


class DeviceAuditEvent(enum.Enum):
    """An event the device writes to its local audit log (never with user text)."""

    POLICY_CHANGES = "policy_changes"
    CONSENT_CHANGES = "consent_changes"
    BLOCKED_INFERENCES = "blocked_inferences"
    SELECTIONS = "selections"
    TRAINING_ROUNDS = "training_rounds"


class ServerAudit(enum.Enum):
    """An aggregate audit the server may run over rounds."""

    COHORT_SIZES = "cohort_sizes"
    EPSILON_LEDGER = "epsilon_ledger"
    UPDATE_NORMS = "update_norms"
    METRIC_RANGES = "metric_ranges"


@dataclass(frozen=True)
class PolicyMeta:
    """Identity of a policy document: ``[policy]``."""

    name: str
    version: int
    description: str


@dataclass(frozen=True)
class ConsentRules:
    """Purposes and consent: ``[consent]``."""

    allowed_purposes: frozenset[Purpose]
    opt_in_required: frozenset[Purpose]


@dataclass(frozen=True)
class SignalRules:
    """Inputs that may and may never be profiled: ``[signals]``."""

    allowed: frozenset[Signal]
    forbidden: frozenset[Signal]


@dataclass(frozen=True)
class TraitRule:
    """Whether a trait may be inferred and the evidence needed before it is used."""

    allowed: bool
    min_words: int
    min_confidence: float


@dataclass(frozen=True)
class InferenceRules:
    """Inference boundaries: ``[inference]``."""

    decision_style: TraitRule
    interests: TraitRule
    max_interests: int
    forbidden_special_categories: frozenset[SpecialCategory]
    forbidden_nodes: frozenset[str]

    def trait(self, trait: Trait) -> TraitRule:
        """Return the rule for ``trait``.

        Parameters
        ----------
        trait
            The trait.

        Returns
        -------
        TraitRule
            Its rule.
        """
        return self.decision_style if trait is Trait.DECISION_STYLE else self.interests


@dataclass(frozen=True)
class PersonalizationRules:
    """Personalization boundaries: ``[personalization]``."""

    enabled: bool
    style_variants: bool
    max_per_item_per_day: int
    max_per_category_per_day: int
    max_per_hour: int
    max_per_day: int
    dismissal_suppression_hours: int
    fatigue_after_impressions: int
    fatigue_cooldown_hours: int
    exploration_share: float
    fallback: Fallback
    third_party_noise_share: float
    third_party_max_interests: int


@dataclass(frozen=True)
class RetentionRules:
    """What the device keeps and for how long: ``[retention]``."""

    keep: frozenset[StoredItem]
    profile_ttl_days: int
    engagement_ttl_days: int
    training_examples_ttl_days: int
    audit_log_ttl_days: int
    profile_half_life_days: float

    def ttl_days(self, item: StoredItem) -> int:
        """Return the time-to-live in days of ``item`` (0 when it is not kept).

        Parameters
        ----------
        item
            The stored item.

        Returns
        -------
        int
            Days the item may be kept.
        """
        if item not in self.keep:
            return 0
        return {
            StoredItem.PROFILE: self.profile_ttl_days,
            StoredItem.ENGAGEMENT_EVENTS: self.engagement_ttl_days,
            StoredItem.TRAINING_EXAMPLES: self.training_examples_ttl_days,
            StoredItem.AUDIT_LOG: self.audit_log_ttl_days,
        }[item]


@dataclass(frozen=True)
class FederatedRules:
    """Federated boundaries: ``[federated]``."""

    enabled: bool
    min_cohort: int
    sampling_rate: float
    clipping_norm: float
    noise_multiplier: float
    dp_required: bool
    target_epsilon: float
    target_delta: float
    period_days: int
    rounds_per_period: int
    max_participation_per_period: int
    allowed_metrics: frozenset[ClientMetric]
    secure_aggregation: bool


@dataclass(frozen=True)
class OutcomeAuditRules:
    """Outcome audits, federated analytics of what personalization does: ``[audit.outcomes]``.

    ``epsilon`` and ``delta`` bound every audit round of one ``period_days`` window
    together (a budget of its own, beside ``federated.target_epsilon``); rounds run at most
    every ``cadence_days``. ``control_share`` of people see generic content so the lift of
    personalization can be measured; the three thresholds raise the report's flags.
    """

    enabled: bool
    epsilon: float
    delta: float
    period_days: int
    cadence_days: int
    sampling_rate: float
    min_cohort: int
    control_share: float
    disparity_threshold: float
    fatigue_max_drop: float
    min_lift: float

    @property
    def rounds_per_period(self) -> int:
        """Return the most audit rounds one period holds (``period_days // cadence_days``)."""
        return max(1, self.period_days // self.cadence_days)


@dataclass(frozen=True)
class AuditRules:
    """Audit settings: ``[audit]`` and its ``[audit.outcomes]`` table."""

    device_log: frozenset[DeviceAuditEvent]
    server_audits: frozenset[ServerAudit]
    outcomes: OutcomeAuditRules


@dataclass(frozen=True)
class Policy:
    """A validated privacy policy.

    Build one with :func:`~edge_client.policy.loader.parse_policy` or
    :func:`~edge_client.policy.loader.load_policy`; construct directly only in tests.
    """

    policy: PolicyMeta
    consent: ConsentRules
    signals: SignalRules
    inference: InferenceRules
    personalization: PersonalizationRules
    retention: RetentionRules
    federated: FederatedRules
    audit: AuditRules

    @property
    def name(self) -> str:
        """Return the policy's name."""
        return self.policy.name

    @property
    def version(self) -> int:
        """Return the policy's version."""
        return self.policy.version
