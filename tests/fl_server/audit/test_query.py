"""Audit query rounds on the in-process grid: what devices send, checks, k, ε."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from flwr.app import Array, ArrayRecord, Context, Message, RecordDict

from edge_client.audit import Question, layout_for, required_noise_multiplier
from edge_client.audit.app import CONTRIBUTION_KEY, CONTRIBUTION_RECORD
from edge_client.federated.app import make_client_app
from edge_client.federated.device import engine_for
from fl_server.audit.ledger import AuditLedger
from fl_server.audit.query import RoundStatus, run_audit_round
from fl_server.local_grid import LocalGrid

FULL = layout_for(list(Question))
DAY = 86400.0


def _grid(n: int, policy: str = "research") -> LocalGrid:
    config: dict[str, bool | float | int | str] = {
        "policy": policy,
        "audit-plant": "disparity",
        "audit-rounds": 2,
    }
    return LocalGrid(make_client_app(), [{"partition-id": i} for i in range(n)], config)


def _round(grid: LocalGrid, policy: str = "research", number: int = 1) -> Any:
    engine = engine_for(policy)
    rules = engine.policy.audit.outcomes
    ledger = AuditLedger(rules, noise_multiplier=required_noise_multiplier(rules))
    result = run_audit_round(
        grid,
        engine=engine,
        layout=FULL,
        ledger=ledger,
        round_number=number,
        at=number * 7 * DAY,
        rng=np.random.default_rng(0),
        simulated=True,
    )
    return result, ledger


def test_devices_send_one_noisy_vector_and_nothing_else() -> None:
    """Each reply holds only the contribution array, no metric, config or identifier."""
    grid = _grid(60)
    result, ledger = _round(grid)
    assert result.status is RoundStatus.AGGREGATED and result.replies == 60
    assert len(ledger.entries) == 1
    for sent, reply in zip(grid.sent, grid.replies, strict=True):
        assert sent.metadata.message_type == "query"
        content = reply.content
        assert list(content.array_records) == [CONTRIBUTION_RECORD]
        assert not content.metric_records and not content.config_records
        array = content.array_records[CONTRIBUTION_RECORD][CONTRIBUTION_KEY]
        values = array.numpy()
        assert values.shape == (FULL.size,) and values.dtype == np.float64
        assert np.count_nonzero(values) == FULL.size  # noise everywhere: zeros are hidden
    assert result.estimates is not None and result.estimates.disparity is not None


def test_a_cohort_under_k_is_skipped_and_not_charged() -> None:
    """With fewer devices than the policy's k nothing is sent and ε is not spent."""
    grid = _grid(12)
    result, ledger = _round(grid)
    assert result.status is RoundStatus.SKIPPED and not grid.sent and not ledger.entries


def test_devices_refuse_a_round_of_another_policy() -> None:
    """Devices under 'default' refuse a round built for 'research'; it is discarded."""
    grid = _grid(40, policy="default")
    result, ledger = _round(grid, policy="research")
    assert result.status is RoundStatus.DISCARDED and result.rejected == 40
    assert len(ledger.entries) == 1  # charged before sending: never under-counted
    assert grid.replies[0].has_error() and "policy hash" in str(grid.replies[0].error.reason)


def _hostile(kind: str) -> Callable[[Message, Context], Message]:
    app = make_client_app()

    def client(message: Message, context: Context) -> Message:
        reply = app(message, context)
        if context.node_id % 10:  # nine devices in ten behave
            return reply
        bad = {
            "nan": np.full(FULL.size, np.nan),
            "huge": np.full(FULL.size, 1e6),
            "short": np.zeros(3),
            "ints": np.zeros(FULL.size, np.int64),
        }[kind]
        return Message(
            RecordDict({CONTRIBUTION_RECORD: ArrayRecord({CONTRIBUTION_KEY: Array(bad)})}),
            reply_to=message,
        )

    return client


@pytest.mark.parametrize("kind", ["nan", "huge", "short", "ints"])
def test_malformed_replies_are_dropped_not_fatal(kind: str) -> None:
    """A reply that is not a bounded finite float vector of the layout is dropped."""
    grid = _grid(60)
    grid._app = _hostile(kind)  # type: ignore[assignment]  # a callable ClientApp stand-in
    result, _ = _round(grid)
    assert result.rejected == 6 and result.replies == 54
    assert result.status is RoundStatus.AGGREGATED
