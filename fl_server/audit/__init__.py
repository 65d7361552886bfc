"""Outcome audits on the server: query rounds, the audit's ledger, estimates, report.

A privacy engineer runs ``edgeprof audit run`` (or ``flwr run`` with ``job = "audit"``):
the ServerApp sends Flower ``query`` messages (no training) to Poisson-sampled devices,
which answer with clipped, DP-noised aggregates of their own selection outcomes
(:mod:`edge_client.audit`); the server aggregates only cohorts of at least k, charges the
audit's own ε (:class:`AuditLedger`, ``dp_accounting``), estimates exposure, engagement,
fatigue and the lift over the control group with their noise, raises flags against the
policy's thresholds and writes ``audit.json`` and PNG plots. See ``docs/audits.md``.
Names are imported on first use, so importing the package does not load Flower.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__all__ = [
    "AuditCharge",
    "AuditEstimates",
    "AuditLedger",
    "AuditRound",
    "AuditSettings",
    "Estimate",
    "Flag",
    "FlagKind",
    "aggregate",
    "estimate",
    "raise_flags",
    "run_audit",
    "run_audit_round",
    "summary",
]

_LAZY = {
    "AuditCharge": "fl_server.audit.ledger",
    "AuditLedger": "fl_server.audit.ledger",
    "AuditEstimates": "fl_server.audit.estimates",
    "Estimate": "fl_server.audit.estimates",
    "Flag": "fl_server.audit.estimates",
    "FlagKind": "fl_server.audit.estimates",
    "estimate": "fl_server.audit.estimates",
    "raise_flags": "fl_server.audit.estimates",
    "AuditRound": "fl_server.audit.query",
    "aggregate": "fl_server.audit.query",
    "run_audit_round": "fl_server.audit.query",
    "AuditSettings": "fl_server.audit.job",
    "run_audit": "fl_server.audit.job",
    "summary": "fl_server.audit.report",
}

if TYPE_CHECKING:
    from fl_server.audit.estimates import (
        AuditEstimates,
        Estimate,
        Flag,
        FlagKind,
        estimate,
        raise_flags,
    )
    from fl_server.audit.job import AuditSettings, run_audit
    from fl_server.audit.ledger import AuditCharge, AuditLedger
    from fl_server.audit.query import AuditRound, aggregate, run_audit_round
    from fl_server.audit.report import summary


def __getattr__(name: str) -> Any:
    """Import public names on first use (PEP 562)."""
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value
    return value
