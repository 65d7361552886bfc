"""One outcome-audit query round on a Flower grid: sample, charge, ask, check, sum.

:func:`run_audit_round` samples devices by Poisson sampling at the audit's rate, skips the
round (free: the sample does not depend on anyone's data) when fewer than ``min_cohort``
are sampled, charges the audit ledger *before* sending, sends one ``query`` message per
device (``MessageType.QUERY``: no model, no training) with the round's config, checks
every reply (an array of the layout's length, finite, within the norm a contribution plus
its noise can have) and, when at least ``min_replies`` replies pass, sums them and turns the
sum into estimates (:mod:`fl_server.audit.estimates`). A reply that fails a check is
dropped and counted, never fatal. :func:`aggregate` is the same sum for benchmarks that
build replies without Flower.
"""

from __future__ import annotations

import enum
import logging
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from flwr.app import Array, ArrayRecord, ConfigRecord, Message, MessageType, RecordDict
from flwr.serverapp import Grid

from edge_client.audit.app import CONFIG_RECORD, CONTRIBUTION_KEY, CONTRIBUTION_RECORD
from edge_client.audit.layout import Layout
from edge_client.audit.rounds import AuditKey
from edge_client.policy.engine import PolicyEngine
from fl_server.audit.estimates import AuditEstimates, estimate
from fl_server.audit.ledger import AuditCharge, AuditLedger
from fl_server.sampling import poisson_sample

__all__ = ["AuditRound", "RoundStatus", "aggregate", "reply_bound", "run_audit_round"]

_LOG = logging.getLogger("fl_server.audit")


class RoundStatus(enum.Enum):
    """How an audit round ended."""

    AGGREGATED = "aggregated"
    SKIPPED = "skipped"
    """Fewer than ``min_cohort`` devices sampled: nothing sent, nothing charged."""
    DISCARDED = "discarded"
    """Fewer than ``min_replies`` valid replies: charged, nothing released."""


@dataclass(frozen=True)
class AuditRound:
    """What one audit round did.

    Attributes
    ----------
    round : int
        Its number.
    at : float
        Its time (POSIX seconds; virtual time in a simulation).
    status : RoundStatus
        Aggregated, skipped or discarded.
    sampled, replies, rejected : int
        Devices asked, valid replies, replies refused or failing a check.
    min_replies : int
        Fewest valid replies aggregated.
    sigma : float
        Standard deviation of the noise in each cell of the sum.
    charge : AuditCharge or None
        The ledger entry (``None`` when skipped).
    estimates : AuditEstimates or None
        The estimates, when aggregated.
    """

    round: int
    at: float
    status: RoundStatus
    sampled: int
    replies: int
    rejected: int
    min_replies: int
    sigma: float
    charge: AuditCharge | None
    estimates: AuditEstimates | None


def reply_bound(layout: Layout, *, device_sigma: float) -> float:
    """Return the largest norm a valid reply may have (contribution plus 8 σ of noise)."""
    return layout.sensitivity + 8.0 * device_sigma * math.sqrt(layout.size) + 1e-9


def aggregate(
    replies: npt.ArrayLike,
    layout: Layout,
    *,
    noise_multiplier: float,
    min_replies: int,
    min_cohort: int,
) -> tuple[AuditEstimates, float]:
    """Sum valid replies and estimate; return the estimates and the noise per cell.

    The noise in each cell of the sum is ``z · sensitivity · sqrt(replies / min_replies)``:
    every device added ``1 / sqrt(min_replies)`` of the budgeted noise.
    """
    rows = np.asarray(replies, np.float64).reshape(-1, layout.size)
    total = rows.sum(axis=0)
    sigma = noise_multiplier * layout.sensitivity * math.sqrt(len(rows) / min_replies)
    return estimate(total, layout, sigma=sigma, min_cohort=min_cohort), sigma


def _valid(message: Message, layout: Layout, bound: float) -> npt.NDArray[np.float64] | None:
    if message.has_error() or CONTRIBUTION_RECORD not in message.content:
        return None
    record = message.content[CONTRIBUTION_RECORD]
    value = record.get(CONTRIBUTION_KEY) if isinstance(record, ArrayRecord) else None
    if not isinstance(value, Array):
        return None
    try:
        array = value.numpy()
    except (TypeError, ValueError):
        return None
    if (
        array.shape != (layout.size,)
        or array.dtype.kind != "f"
        or not np.all(np.isfinite(array))
        or float(np.linalg.norm(array)) > bound
    ):
        return None
    return np.asarray(array, np.float64)


def run_audit_round(
    grid: Grid,
    *,
    engine: PolicyEngine,
    layout: Layout,
    ledger: AuditLedger,
    round_number: int,
    at: float,
    rng: np.random.Generator,
    dropout_margin: float = 0.1,
    simulated: bool = False,
    timeout: float | None = None,
) -> AuditRound:
    """Run one audit query round on ``grid`` (see the module docstring).

    Parameters
    ----------
    grid : Grid
        Where the devices are.
    engine : PolicyEngine
        The policy (its hash goes into the round; ``min_cohort`` bounds it).
    layout : Layout
        The questions asked.
    ledger : AuditLedger
        Charged before any message is sent.
    round_number : int
        The round's number.
    at : float
        The round's time (POSIX seconds).
    rng : numpy.random.Generator
        Sampling randomness.
    dropout_margin : float, default 0.1
        Share of sampled devices that may fail to reply before the round is discarded.
    simulated : bool, default False
        Announce ``at`` as the devices' virtual clock (SIMULATION only).
    timeout : float, optional
        Seconds to wait for replies.

    Returns
    -------
    AuditRound
        What happened; estimates when aggregated.

    Raises
    ------
    BudgetExhaustedError
        When the ledger refuses the round (nothing is sent).
    """
    rules = engine.policy.audit.outcomes
    nodes = poisson_sample(grid.get_node_ids(), rate=ledger.sampling_rate, rng=rng)
    if len(nodes) < rules.min_cohort:
        _LOG.info(
            "audit round %d skipped: %d sampled < k=%d", round_number, len(nodes), rules.min_cohort
        )
        return AuditRound(
            round_number, at, RoundStatus.SKIPPED, len(nodes), 0, 0, 0, 0.0, None, None
        )
    min_replies = max(rules.min_cohort, math.ceil(len(nodes) * (1.0 - dropout_margin)))
    charge = ledger.charge(round_number, at=at, cohort=len(nodes))
    z = ledger.noise_multiplier
    config: dict[str, Any] = {
        AuditKey.POLICY_HASH.value: engine.policy_hash,
        AuditKey.QUESTIONS.value: ",".join(q.value for q in layout.questions),
        AuditKey.NOISE_MULTIPLIER.value: z,
        AuditKey.MIN_REPLIES.value: min_replies,
        AuditKey.SAMPLING_RATE.value: ledger.sampling_rate,
        AuditKey.ROUND.value: round_number,
    }
    if simulated:
        config[AuditKey.SIMULATED_AT.value] = at
    messages = [
        Message(
            RecordDict({CONFIG_RECORD: ConfigRecord(config)}),
            dst_node_id=node,
            message_type=MessageType.QUERY,
        )
        for node in nodes
    ]
    device_sigma = z * layout.sensitivity / math.sqrt(min_replies)
    bound = reply_bound(layout, device_sigma=device_sigma)
    accepted: list[npt.NDArray[np.float64]] = []
    received = 0
    for reply in grid.send_and_receive(messages, timeout=timeout):
        received += 1
        row = _valid(reply, layout, bound)
        if row is not None:
            accepted.append(row)
    rejected = received - len(accepted)
    if len(accepted) < min_replies:
        _LOG.warning(
            "audit round %d discarded: %d valid replies < %d",
            round_number,
            len(accepted),
            min_replies,
        )
        return AuditRound(
            round_number,
            at,
            RoundStatus.DISCARDED,
            len(nodes),
            len(accepted),
            rejected,
            min_replies,
            0.0,
            charge,
            None,
        )
    estimates, sigma = aggregate(
        accepted, layout, noise_multiplier=z, min_replies=min_replies, min_cohort=rules.min_cohort
    )
    return AuditRound(
        round_number,
        at,
        RoundStatus.AGGREGATED,
        len(nodes),
        len(accepted),
        rejected,
        min_replies,
        sigma,
        charge,
        estimates,
    )
