"""Privacy policies: parse, validate, sign, roll out and enforce personalization boundaries.

A policy is a TOML document (``policies/*.toml``, schema ``policies/schema.json``,
every field in ``docs/policies.md``). :class:`PolicyEngine` enforces it on the device and
the server; :class:`PolicyGuard` accepts only signed, trusted, unexpired, newer bundles.
``dp_accounting`` and the CLI are imported only by the modules that need them, and the
signing side (``cryptography``) on first use of its names, so profiling starts fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from edge_client.lazy import lazy_names
from edge_client.policy.canonical import canonical_bytes, policy_document, policy_hash
from edge_client.policy.consent import ConsentState
from edge_client.policy.engine import PolicyEngine, RoundKey
from edge_client.policy.errors import (
    AccountantUnavailableError,
    ConsentError,
    DowngradeError,
    ExpiredPolicyError,
    KeyFileError,
    PolicyError,
    PolicyRefusedError,
    PolicyValidationError,
    TamperedPolicyError,
    TrustStoreError,
    UnknownKeyError,
    UnknownNodeError,
    UnsignedPolicyError,
)
from edge_client.policy.loader import (
    LintResult,
    lint_document,
    lint_text,
    load_policy,
    parse_policy,
)
from edge_client.policy.model import (
    AuditRules,
    ClientMetric,
    ConsentRules,
    DeviceAuditEvent,
    Fallback,
    FederatedRules,
    InferenceRules,
    OutcomeAuditRules,
    PersonalizationRules,
    Policy,
    PolicyMeta,
    Purpose,
    RetentionRules,
    ServerAudit,
    Signal,
    SignalRules,
    StoredItem,
    Trait,
    TraitRule,
)
from edge_client.policy.presets import Preset, load_preset, preset_path
from edge_client.policy.problems import Problem, Severity

__all__ = [
    "AccountantUnavailableError",
    "AuditRules",
    "Change",
    "ClientMetric",
    "ConsentError",
    "ConsentRules",
    "ConsentState",
    "DeviceAuditEvent",
    "DowngradeError",
    "ExpiredPolicyError",
    "Fallback",
    "FederatedRules",
    "InferenceRules",
    "KeyFileError",
    "LintResult",
    "OutcomeAuditRules",
    "PersonalizationRules",
    "Policy",
    "PolicyEngine",
    "PolicyError",
    "PolicyGuard",
    "PolicyMeta",
    "PolicyRefusedError",
    "PolicyValidationError",
    "Preset",
    "Problem",
    "Purpose",
    "RetentionRules",
    "RoundKey",
    "ServerAudit",
    "Severity",
    "Signal",
    "SignalRules",
    "SignedBundle",
    "StoredItem",
    "TamperedPolicyError",
    "Trait",
    "TraitRule",
    "TrustStore",
    "TrustStoreError",
    "UnknownKeyError",
    "UnknownNodeError",
    "UnsignedPolicyError",
    "canonical_bytes",
    "diff_policies",
    "explain_policy",
    "generate_private_key",
    "key_id",
    "lint_document",
    "lint_text",
    "load_policy",
    "load_preset",
    "load_private_key",
    "parse_policy",
    "policy_document",
    "policy_hash",
    "preset_path",
    "sign_policy",
    "verify_bundle",
]

# Names whose modules import ``cryptography``, or are only for people reading policies
# (explain, diff): loaded on first access (PEP 562).
_LAZY = {
    "Change": "edge_client.policy.explain",
    "diff_policies": "edge_client.policy.explain",
    "explain_policy": "edge_client.policy.explain",
    "TrustStore": "edge_client.policy.keys",
    "generate_private_key": "edge_client.policy.keys",
    "key_id": "edge_client.policy.keys",
    "load_private_key": "edge_client.policy.keys",
    "PolicyGuard": "edge_client.policy.rollout",
    "SignedBundle": "edge_client.policy.signing",
    "sign_policy": "edge_client.policy.signing",
    "verify_bundle": "edge_client.policy.signing",
}

if TYPE_CHECKING:
    from edge_client.policy.explain import Change, diff_policies, explain_policy
    from edge_client.policy.keys import (
        TrustStore,
        generate_private_key,
        key_id,
        load_private_key,
    )
    from edge_client.policy.rollout import PolicyGuard
    from edge_client.policy.signing import SignedBundle, sign_policy, verify_bundle


__getattr__, __dir__ = lazy_names(__name__, _LAZY, globals())
