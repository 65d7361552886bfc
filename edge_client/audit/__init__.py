"""Outcome audits on the device: what personalization did, counted and answered privately.

The :class:`OutcomeRecorder` (kept in the selector's state, fed by
:class:`~edge_client.selection.PersonalizedFeed`) counts the device's own impressions,
engagements and dismissals per audit window by variant, sponsored or not, and exposure
count, and draws the device into the random control group (generic content) with the
policy's ``audit.outcomes.control_share``. When the server runs an outcome-audit query
round, the device checks it against its policy (:func:`audit_refusals`), turns its window
into a bounded contribution (:func:`contributions`, layout in
:mod:`edge_client.audit.layout`) and adds its share of Gaussian noise; the Flower handler
is :mod:`edge_client.audit.app`. :mod:`edge_client.audit.simulation` SIMULATES outcomes
for benchmarks. See ``docs/audits.md``.
"""

from __future__ import annotations

from edge_client.audit.errors import AuditError, OutcomeStateError
from edge_client.audit.layout import (
    ARMS,
    BUCKETS,
    EXPOSURE_BINS,
    PART_WEIGHTS,
    VARIANTS,
    Arm,
    Layout,
    Part,
    Question,
    StyleBucket,
    layout_for,
)
from edge_client.audit.outcomes import COUNT_SHAPE, add_noise, contributions
from edge_client.audit.recorder import OutcomeRecorder
from edge_client.audit.rounds import (
    AuditKey,
    AuditPlan,
    audit_refusals,
    device_sigma,
    parse_audit_plan,
    required_noise_multiplier,
)
from edge_client.audit.source import (
    AuditSource,
    SimulatedAuditSource,
    StoreAuditSource,
    style_bucket,
)

__all__ = [
    "ARMS",
    "BUCKETS",
    "COUNT_SHAPE",
    "EXPOSURE_BINS",
    "PART_WEIGHTS",
    "VARIANTS",
    "Arm",
    "AuditError",
    "AuditKey",
    "AuditPlan",
    "AuditSource",
    "Layout",
    "OutcomeRecorder",
    "OutcomeStateError",
    "Part",
    "Question",
    "SimulatedAuditSource",
    "StoreAuditSource",
    "StyleBucket",
    "add_noise",
    "audit_refusals",
    "contributions",
    "device_sigma",
    "layout_for",
    "parse_audit_plan",
    "required_noise_multiplier",
    "style_bucket",
]
