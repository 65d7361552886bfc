"""The policy language: one :class:`FieldSpec` per field, the single source of truth.

Parsing, validation, the JSON Schema, ``explain``, ``diff`` (which direction loosens
privacy) and the documentation test all read :data:`FIELDS`. A field's ``path`` is its
dotted TOML key; its ``enforced_by`` names the code that enforces it.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

from edge_client.policy.model import (
    ClientMetric,
    DeviceAuditEvent,
    Fallback,
    Purpose,
    ServerAudit,
    Signal,
    SpecialCategory,
    StoredItem,
)

__all__ = [
    "FIELDS",
    "OUTCOME_FIELDS",
    "SECTIONS",
    "FieldKind",
    "FieldSpec",
    "Loosening",
    "field_map",
]


class FieldKind(enum.Enum):
    """The TOML type of a field."""

    BOOL = "boolean"
    INT = "integer"
    FLOAT = "number"
    STR = "string"
    ENUM = "enum"
    ENUM_SET = "enum set"
    STR_SET = "string set"


class Loosening(enum.Enum):
    """Which change of a field loosens privacy (``NEUTRAL``: neither direction does)."""

    HIGHER = "a higher value loosens privacy"
    LOWER = "a lower value loosens privacy"
    TRUE = "turning it on loosens privacy"
    FALSE = "turning it off loosens privacy"
    MORE = "adding entries loosens privacy"
    FEWER = "removing entries loosens privacy"
    NEUTRAL = "neither direction loosens privacy"


@dataclass(frozen=True)
class FieldSpec:
    """One field of the policy language.

    Parameters
    ----------
    path
        Dotted TOML key, e.g. ``"federated.min_cohort"``.
    kind
        Its type.
    description
        What it means, in one sentence.
    enforced_by
        The code that enforces it.
    default
        Default when absent (``None`` with ``required=True``).
    loosening
        Which change loosens privacy.
    minimum, maximum
        Inclusive numeric bounds, if any.
    exclusive_minimum
        Whether ``minimum`` itself is excluded.
    choices
        The enum of allowed values for ``ENUM``/``ENUM_SET`` fields.
    required
        Whether the field must be present.
    max_length
        Longest string (``STR``) or list entry (``STR_SET``), in characters.
    max_items
        Most entries of a ``STR_SET`` list.
    """

    path: str
    kind: FieldKind
    description: str
    enforced_by: str
    default: object = None
    loosening: Loosening = Loosening.NEUTRAL
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: bool = False
    choices: type[enum.Enum] | None = None
    required: bool = False
    max_length: int | None = None
    max_items: int | None = None

    @property
    def section(self) -> str:
        """Return the top-level table the field lives in."""
        return self.path.split(".", 1)[0]

    def range_text(self) -> str:
        """Return the allowed range or values in words, for docs and messages."""
        if self.choices is not None:
            return ", ".join(repr(m.value) for m in self.choices)
        if self.max_length is not None:
            count = "" if self.max_items is None else f"at most {self.max_items:,} entries of "
            return f"{count}at most {self.max_length:,} characters"
        if self.minimum is None and self.maximum is None:
            return "any"
        low = "" if self.minimum is None else f"{'>' if self.exclusive_minimum else '>='} "
        low += "" if self.minimum is None else _number(self.minimum)
        high = "" if self.maximum is None else f"<= {_number(self.maximum)}"
        return " and ".join(part for part in (low, high) if part)


def _number(value: float) -> str:
    return f"{int(value):,}" if float(value).is_integer() and abs(value) < 1e16 else f"{value:g}"


# Upper bounds are what the code handles with a wide margin: durations within 100 years
# (timedelta and datetime arithmetic stay far from their limits), counts within 10^6 or
# 10^9, versions exact in every JSON reader (2^53 - 1), and DP parameters within the range
# where dp_accounting returns a finite, meaningful epsilon.
MAX_DAYS = 36_500
MAX_HOURS = 24 * MAX_DAYS
MAX_COUNT = 1_000_000
MAX_VERSION = 2**53 - 1

_ENGINE = "edge_client.policy.engine.PolicyEngine"
_ART9 = tuple(c.value for c in SpecialCategory)


def _trait_fields(trait: str, words: int, confidence: float) -> tuple[FieldSpec, ...]:
    base = f"inference.{trait}"
    return (
        FieldSpec(
            f"{base}.allowed",
            FieldKind.BOOL,
            f"Whether {trait} may be inferred at all.",
            f"{_ENGINE}.may_use_trait",
            True,
            Loosening.TRUE,
        ),
        FieldSpec(
            f"{base}.min_words",
            FieldKind.INT,
            f"Minimum words of the person's own text before {trait} is used.",
            f"{_ENGINE}.may_use_trait",
            words,
            Loosening.LOWER,
            minimum=0,
            maximum=1_000_000_000,
        ),
        FieldSpec(
            f"{base}.min_confidence",
            FieldKind.FLOAT,
            f"Minimum model confidence before {trait} is used.",
            f"{_ENGINE}.may_use_trait",
            confidence,
            Loosening.LOWER,
            0.0,
            1.0,
        ),
    )


_OUTCOMES = "audit.outcomes"
_AUDIT_ROUND = "edge_client.audit.rounds.audit_refusals"
_AUDIT_LEDGER = "fl_server.audit.ledger.AuditLedger"
_AUDIT_FLAGS = "fl_server.audit.estimates.raise_flags"

OUTCOME_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec(
        f"{_OUTCOMES}.enabled",
        FieldKind.BOOL,
        "Whether devices answer outcome-audit query rounds (clipped, DP-noised aggregates).",
        _AUDIT_ROUND,
        False,
        Loosening.TRUE,
    ),
    FieldSpec(
        f"{_OUTCOMES}.epsilon",
        FieldKind.FLOAT,
        "Epsilon per person of all audit rounds in one period (a budget of its own).",
        f"{_AUDIT_ROUND}; {_AUDIT_LEDGER}",
        1.0,
        Loosening.HIGHER,
        0.0,
        exclusive_minimum=True,
    ),
    FieldSpec(
        f"{_OUTCOMES}.delta",
        FieldKind.FLOAT,
        "Delta per person of all audit rounds in one period.",
        f"{_AUDIT_ROUND}; {_AUDIT_LEDGER}",
        1e-5,
        Loosening.HIGHER,
        0.0,
        0.01,
        exclusive_minimum=True,
    ),
    FieldSpec(
        f"{_OUTCOMES}.period_days",
        FieldKind.INT,
        "Length in days of the window the audit's (epsilon, delta) covers.",
        f"{_AUDIT_ROUND}; {_AUDIT_LEDGER}",
        28,
        Loosening.LOWER,
        minimum=1,
    ),
    FieldSpec(
        f"{_OUTCOMES}.cadence_days",
        FieldKind.INT,
        "Fewest days between two audit rounds (rounds per period = period_days // this).",
        f"{_AUDIT_ROUND}; {_AUDIT_LEDGER}",
        7,
        Loosening.NEUTRAL,
        minimum=1,
    ),
    FieldSpec(
        f"{_OUTCOMES}.sampling_rate",
        FieldKind.FLOAT,
        "Probability a device is sampled into an audit round (Poisson sampling).",
        f"{_AUDIT_ROUND}; {_AUDIT_LEDGER}",
        1.0,
        Loosening.NEUTRAL,
        0.0,
        1.0,
        exclusive_minimum=True,
    ),
    FieldSpec(
        f"{_OUTCOMES}.min_cohort",
        FieldKind.INT,
        "Fewest devices whose replies an audit round aggregates (k); smaller cells are hidden.",
        f"{_AUDIT_ROUND}; fl_server.audit.query.run_audit_round",
        100,
        Loosening.LOWER,
        minimum=2,
    ),
    FieldSpec(
        f"{_OUTCOMES}.control_share",
        FieldKind.FLOAT,
        "Share of people drawn at random into a control group that sees generic content.",
        "edge_client.audit.recorder.OutcomeRecorder",
        0.05,
        Loosening.NEUTRAL,
        0.0,
        0.5,
    ),
    FieldSpec(
        f"{_OUTCOMES}.disparity_threshold",
        FieldKind.FLOAT,
        "Flag when the sponsored-offer share differs by more than this between style buckets.",
        _AUDIT_FLAGS,
        0.05,
        Loosening.NEUTRAL,
        0.0,
        1.0,
        exclusive_minimum=True,
    ),
    FieldSpec(
        f"{_OUTCOMES}.fatigue_max_drop",
        FieldKind.FLOAT,
        "Flag when engagement at the fatigue limit falls by more than this share of the first.",
        _AUDIT_FLAGS,
        0.5,
        Loosening.NEUTRAL,
        0.0,
        1.0,
        exclusive_minimum=True,
    ),
    FieldSpec(
        f"{_OUTCOMES}.min_lift",
        FieldKind.FLOAT,
        "Flag when personalization beats the control by fewer engagement-rate points.",
        _AUDIT_FLAGS,
        0.01,
        Loosening.NEUTRAL,
        0.0,
        1.0,
    ),
)
"""The ``[audit.outcomes]`` table (outcome audits as federated analytics)."""

FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec(
        "policy.name",
        FieldKind.STR,
        "Human name of the policy.",
        "edge_client.policy.signing (bundle metadata)",
        required=True,
        max_length=200,
    ),
    FieldSpec(
        "policy.version",
        FieldKind.INT,
        "Version; a device replaces its policy only with a strictly higher one.",
        "edge_client.policy.rollout.PolicyGuard",
        minimum=1,
        required=True,
        maximum=MAX_VERSION,
    ),
    FieldSpec(
        "policy.description",
        FieldKind.STR,
        "Free-text summary for reviewers.",
        "edge_client.policy.explain",
        "",
        max_length=10_000,
    ),
    FieldSpec(
        "consent.allowed_purposes",
        FieldKind.ENUM_SET,
        "Purposes the system may pursue at all.",
        f"{_ENGINE}.consent_required / ConsentState.check",
        ("profiling", "personalization", "federated_training"),
        Loosening.MORE,
        choices=Purpose,
    ),
    FieldSpec(
        "consent.opt_in_required",
        FieldKind.ENUM_SET,
        "Purposes that need the person's explicit opt-in before they run.",
        f"{_ENGINE}.consent_required / ConsentState.check",
        tuple(p.value for p in Purpose),
        Loosening.FEWER,
        choices=Purpose,
    ),
    FieldSpec(
        "signals.allowed",
        FieldKind.ENUM_SET,
        "Inputs that may be profiled; anything not listed is not profiled.",
        f"{_ENGINE}.is_signal_allowed",
        (
            "review_text",
            "comment_text",
            "post_text",
            "content_categories_viewed",
            "engagement_time",
        ),
        Loosening.MORE,
        choices=Signal,
    ),
    FieldSpec(
        "signals.forbidden",
        FieldKind.ENUM_SET,
        "Inputs that must never be profiled (must not overlap signals.allowed).",
        f"{_ENGINE}.is_signal_allowed",
        ("message_text", "purchases", "device", "context"),
        Loosening.FEWER,
        choices=Signal,
    ),
    *_trait_fields("decision_style", 350, 0.6),
    *_trait_fields("interests", 50, 0.3),
    FieldSpec(
        "inference.max_interests",
        FieldKind.INT,
        "Most interests kept in a profile (top scores after filtering).",
        f"{_ENGINE}.filter_interests",
        5,
        Loosening.HIGHER,
        minimum=1,
        maximum=50,
    ),
    FieldSpec(
        "inference.forbidden_special_categories",
        FieldKind.ENUM_SET,
        "GDPR Art. 9 categories never inferred, stored or targeted "
        "(every node marked with or under one).",
        f"{_ENGINE}.is_interest_allowed / filter_interests",
        _ART9,
        Loosening.FEWER,
        choices=SpecialCategory,
    ),
    FieldSpec(
        "inference.forbidden_nodes",
        FieldKind.STR_SET,
        "Taxonomy node ids never inferred, stored or targeted, descendants included.",
        f"{_ENGINE}.is_interest_allowed / filter_interests",
        (),
        Loosening.FEWER,
        max_length=128,
        max_items=2_000,
    ),
    FieldSpec(
        "personalization.enabled",
        FieldKind.BOOL,
        "Whether content may be personalized at all.",
        f"{_ENGINE}.personalization",
        True,
        Loosening.TRUE,
    ),
    FieldSpec(
        "personalization.style_variants",
        FieldKind.BOOL,
        "Whether decision style may choose among variants of the same offer.",
        f"{_ENGINE}.may_choose_variant",
        True,
        Loosening.TRUE,
    ),
    FieldSpec(
        "personalization.max_per_item_per_day",
        FieldKind.INT,
        "Most impressions of one item per day.",
        f"{_ENGINE}.personalization",
        3,
        Loosening.HIGHER,
        minimum=0,
        maximum=MAX_COUNT,
    ),
    FieldSpec(
        "personalization.max_per_category_per_day",
        FieldKind.INT,
        "Most impressions of one interest category per day.",
        f"{_ENGINE}.personalization",
        20,
        Loosening.HIGHER,
        minimum=0,
        maximum=MAX_COUNT,
    ),
    FieldSpec(
        "personalization.max_per_hour",
        FieldKind.INT,
        "Most personalized impressions per hour (Brave Ads: 10).",
        f"{_ENGINE}.personalization",
        10,
        Loosening.HIGHER,
        minimum=0,
        maximum=MAX_COUNT,
    ),
    FieldSpec(
        "personalization.max_per_day",
        FieldKind.INT,
        "Most personalized impressions per day (Brave Ads: 100).",
        f"{_ENGINE}.personalization",
        100,
        Loosening.HIGHER,
        minimum=0,
        maximum=MAX_COUNT,
    ),
    FieldSpec(
        "personalization.dismissal_suppression_hours",
        FieldKind.INT,
        "Hours an item stays hidden after the person dismisses it (Brave Ads: 48).",
        f"{_ENGINE}.personalization",
        48,
        Loosening.LOWER,
        minimum=0,
        maximum=MAX_HOURS,
    ),
    FieldSpec(
        "personalization.fatigue_after_impressions",
        FieldKind.INT,
        "Impressions of an item without engagement after which it rests.",
        f"{_ENGINE}.personalization",
        3,
        Loosening.HIGHER,
        minimum=1,
        maximum=MAX_COUNT,
    ),
    FieldSpec(
        "personalization.fatigue_cooldown_hours",
        FieldKind.INT,
        "Hours a fatigued item rests.",
        f"{_ENGINE}.personalization",
        24,
        Loosening.LOWER,
        minimum=0,
        maximum=MAX_HOURS,
    ),
    FieldSpec(
        "personalization.exploration_share",
        FieldKind.FLOAT,
        "Share of selections drawn at random rather than from the profile.",
        f"{_ENGINE}.personalization",
        0.1,
        Loosening.NEUTRAL,
        0.0,
        1.0,
    ),
    FieldSpec(
        "personalization.fallback",
        FieldKind.ENUM,
        "What to show when personalization is off, unconsented or under-evidenced.",
        f"{_ENGINE}.personalization",
        "generic",
        Loosening.NEUTRAL,
        choices=Fallback,
    ),
    FieldSpec(
        "personalization.third_party_noise_share",
        FieldKind.FLOAT,
        "Topics-style share of interests shown to a third party that are random.",
        f"{_ENGINE}.personalization",
        0.05,
        Loosening.LOWER,
        0.0,
        1.0,
    ),
    FieldSpec(
        "personalization.third_party_max_interests",
        FieldKind.INT,
        "Most interests shown to one third party per period (Topics: 1 per epoch).",
        f"{_ENGINE}.personalization",
        1,
        Loosening.HIGHER,
        minimum=0,
        maximum=50,
    ),
    FieldSpec(
        "retention.keep",
        FieldKind.ENUM_SET,
        "What the device keeps (raw text is never kept, whatever the policy).",
        f"{_ENGINE}.retention_ttl",
        tuple(i.value for i in StoredItem),
        Loosening.MORE,
        choices=StoredItem,
    ),
    FieldSpec(
        "retention.profile_ttl_days",
        FieldKind.INT,
        "Days a profile is kept without new evidence.",
        f"{_ENGINE}.retention_ttl",
        90,
        Loosening.HIGHER,
        minimum=0,
        maximum=MAX_DAYS,
    ),
    FieldSpec(
        "retention.engagement_ttl_days",
        FieldKind.INT,
        "Days engagement events are kept.",
        f"{_ENGINE}.retention_ttl",
        30,
        Loosening.HIGHER,
        minimum=0,
        maximum=MAX_DAYS,
    ),
    FieldSpec(
        "retention.training_examples_ttl_days",
        FieldKind.INT,
        "Days local training examples are kept.",
        f"{_ENGINE}.retention_ttl",
        14,
        Loosening.HIGHER,
        minimum=0,
        maximum=MAX_DAYS,
    ),
    FieldSpec(
        "retention.audit_log_ttl_days",
        FieldKind.INT,
        "Days the device audit log is kept.",
        f"{_ENGINE}.retention_ttl",
        90,
        Loosening.HIGHER,
        minimum=0,
        maximum=MAX_DAYS,
    ),
    FieldSpec(
        "retention.profile_half_life_days",
        FieldKind.FLOAT,
        "Half-life in days of the profile's evidence (exponential decay).",
        f"{_ENGINE}.decay_factor",
        14.0,
        Loosening.HIGHER,
        minimum=0.0,
        exclusive_minimum=True,
        maximum=float(MAX_DAYS),
    ),
    FieldSpec(
        "federated.enabled",
        FieldKind.BOOL,
        "Whether the device may join federated training rounds.",
        f"{_ENGINE}.check_round_config",
        True,
        Loosening.TRUE,
    ),
    FieldSpec(
        "federated.min_cohort",
        FieldKind.INT,
        "Fewest clients in a round (k); a client refuses smaller rounds.",
        f"{_ENGINE}.check_round_config",
        50,
        Loosening.LOWER,
        minimum=2,
        maximum=10_000_000,
    ),
    FieldSpec(
        "federated.sampling_rate",
        FieldKind.FLOAT,
        "Probability a client is sampled into a round (Poisson sampling).",
        f"{_ENGINE}.check_round_config; edge_client.policy.accounting",
        0.02,
        Loosening.HIGHER,
        0.0,
        1.0,
        exclusive_minimum=True,
    ),
    FieldSpec(
        "federated.clipping_norm",
        FieldKind.FLOAT,
        "Largest L2 norm of a client update; updates are clipped to it.",
        f"{_ENGINE}.check_round_config",
        1.0,
        Loosening.NEUTRAL,
        0.0,
        exclusive_minimum=True,
        maximum=1e6,
    ),
    FieldSpec(
        "federated.noise_multiplier",
        FieldKind.FLOAT,
        "Gaussian noise standard deviation as a multiple of the clipping norm.",
        f"{_ENGINE}.check_round_config; edge_client.policy.accounting",
        1.0,
        Loosening.LOWER,
        minimum=0.0,
        maximum=1000.0,
    ),
    FieldSpec(
        "federated.dp_required",
        FieldKind.BOOL,
        "Whether rounds must add differential-privacy noise.",
        f"{_ENGINE}.check_round_config",
        True,
        Loosening.FALSE,
    ),
    FieldSpec(
        "federated.target_epsilon",
        FieldKind.FLOAT,
        "Largest epsilon per user per period; lint checks the accountant meets it.",
        "edge_client.policy.accounting",
        3.0,
        Loosening.HIGHER,
        0.0,
        exclusive_minimum=True,
        maximum=100.0,
    ),
    FieldSpec(
        "federated.target_delta",
        FieldKind.FLOAT,
        "Delta per user per period.",
        "edge_client.policy.accounting",
        1e-5,
        Loosening.HIGHER,
        0.0,
        0.01,
        exclusive_minimum=True,
    ),
    FieldSpec(
        "federated.period_days",
        FieldKind.INT,
        "Length in days of the period the (epsilon, delta) budget covers.",
        "edge_client.policy.accounting",
        30,
        Loosening.LOWER,
        minimum=1,
        maximum=3650,
    ),
    FieldSpec(
        "federated.rounds_per_period",
        FieldKind.INT,
        "Most rounds the server runs per period.",
        "edge_client.policy.accounting",
        100,
        Loosening.HIGHER,
        minimum=1,
        maximum=MAX_COUNT,
    ),
    FieldSpec(
        "federated.max_participation_per_period",
        FieldKind.INT,
        "Most rounds one client joins per period.",
        f"{_ENGINE}.check_round_config; edge_client.policy.accounting",
        10,
        Loosening.HIGHER,
        minimum=1,
        maximum=MAX_COUNT,
    ),
    FieldSpec(
        "federated.allowed_metrics",
        FieldKind.ENUM_SET,
        "Aggregate metrics a client may report with its update.",
        f"{_ENGINE}.filter_metrics / check_round_config",
        ("num_examples", "loss"),
        Loosening.MORE,
        choices=ClientMetric,
    ),
    FieldSpec(
        "federated.secure_aggregation",
        FieldKind.BOOL,
        "Whether rounds must use secure aggregation.",
        f"{_ENGINE}.check_round_config",
        False,
        Loosening.FALSE,
    ),
    FieldSpec(
        "audit.device_log",
        FieldKind.ENUM_SET,
        "Events the device records in its local audit log (never user text).",
        f"{_ENGINE}.audit",
        tuple(e.value for e in DeviceAuditEvent),
        Loosening.NEUTRAL,
        choices=DeviceAuditEvent,
    ),
    FieldSpec(
        "audit.server_audits",
        FieldKind.ENUM_SET,
        "Aggregate audits the server may run over rounds.",
        f"{_ENGINE}.audit",
        tuple(a.value for a in ServerAudit),
        Loosening.NEUTRAL,
        choices=ServerAudit,
    ),
    *OUTCOME_FIELDS,
)

SECTIONS: tuple[str, ...] = (
    "policy",
    "consent",
    "signals",
    "inference",
    "personalization",
    "retention",
    "federated",
    "audit",
)


@lru_cache(maxsize=1)
def field_map() -> Mapping[str, FieldSpec]:
    """Return :data:`FIELDS` keyed by dotted path.

    Returns
    -------
    Mapping[str, FieldSpec]
        Every field by its path.
    """
    return {spec.path: spec for spec in FIELDS}
