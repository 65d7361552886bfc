"""The device's answer to an outcome-audit query round (Flower Message API, no training).

:func:`handle_query` checks the round against the device's signed policy and the person's
consent (:func:`~edge_client.audit.rounds.audit_refusals`), builds the bounded contribution
of its current window (:func:`~edge_client.audit.outcomes.contributions`), adds its share of
the Gaussian noise (:func:`~edge_client.audit.rounds.device_sigma`) and replies with that
vector only: no count, no metric, no identifier. A refused round gets an error reply naming
the rule. The ClientApp (:mod:`edge_client.federated.app`) registers it with
``@app.query()``.
"""

from __future__ import annotations

import logging

import numpy as np

from edge_client.errors import MissingExtraError

try:
    from flwr.app import Array, ArrayRecord, ConfigRecord, Context, Error, Message, RecordDict
except ModuleNotFoundError as exc:  # Flower comes with the 'federated' extra only
    raise MissingExtraError(
        "edge_client.audit.app (audit query rounds)", extra="federated", module=exc.name or "flwr"
    ) from exc

from edge_client.audit.errors import AuditError
from edge_client.audit.layout import ARMS, BUCKETS
from edge_client.audit.outcomes import add_noise, contributions
from edge_client.audit.rounds import audit_refusals, device_sigma, parse_audit_plan
from edge_client.audit.source import AuditSource

__all__ = ["CONFIG_RECORD", "CONTRIBUTION_KEY", "CONTRIBUTION_RECORD", "REFUSED", "handle_query"]

_LOG = logging.getLogger("edge_client.audit")
REFUSED = 4002
"""Error code of a refused audit round."""
CONFIG_RECORD = "audit-config"
"""Name of the round's config record."""
CONTRIBUTION_RECORD = "contribution"
"""Name of the reply's array record."""
CONTRIBUTION_KEY = "values"
"""Key of the contribution vector in the reply's array record."""


def _refuse(message: Message, reasons: list[str]) -> Message:
    text = "; ".join(reasons)
    _LOG.warning("refused audit round: %s", text)
    return Message(Error(code=REFUSED, reason=f"refused: {text}"), reply_to=message)


def handle_query(source: AuditSource, message: Message, context: Context) -> Message:
    """Answer one audit ``query`` message.

    Parameters
    ----------
    source : AuditSource
        The device (its policy, consent, clock, history and outcome counts).
    message : Message
        The server's query.
    context : Context
        The node's context (unused: the source keeps the device's state).

    Returns
    -------
    Message
        The noisy contribution, or an error reply naming every reason to refuse.
    """
    del context
    record = message.content.get(CONFIG_RECORD) if CONFIG_RECORD in message.content else None
    if not isinstance(record, ConfigRecord):
        return _refuse(message, ["audit query lacks its config record"])
    config = dict(record)
    now = source.now(config)
    reasons = audit_refusals(
        source.engine, config, consent=source.consent, history=source.history(), now=now
    )
    if reasons:
        return _refuse(message, reasons)
    try:
        plan = parse_audit_plan(config)
        counts, arm, bucket = source.window(plan)
    except AuditError as exc:
        return _refuse(message, [str(exc)])
    row = contributions(counts[None], [ARMS.index(arm)], [BUCKETS.index(bucket)], plan.layout)[0]
    noisy = add_noise(row, sigma=device_sigma(plan), rng=source.noise())
    source.contributed(now)
    values = ArrayRecord({CONTRIBUTION_KEY: Array(np.ascontiguousarray(noisy, np.float64))})
    return Message(RecordDict({CONTRIBUTION_RECORD: values}), reply_to=message)
