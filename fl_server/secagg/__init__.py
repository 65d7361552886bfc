"""Secure aggregation on the server: run the stages over the Message API, unmask only the sum.

:class:`SecureAggregator` (Flower glue) drives :class:`~fl_server.secagg.protocol.ServerRound`
(pure protocol) for :class:`~fl_server.strategy.PolicyStrategy`;
:mod:`~fl_server.secagg.planning` picks each round's parameters;
:mod:`~fl_server.secagg.provision` is the identity authority's side.
"""

from __future__ import annotations

from fl_server.secagg.aggregator import SecureAggregator, SecureOutcome
from fl_server.secagg.planning import RoundPlan, choose_degree, min_survivors, plan_round
from fl_server.secagg.protocol import RoundFailedError, SecureSum, ServerRound
from fl_server.secagg.provision import (
    create_authority,
    provision_identities,
    simulation_identities,
)
from fl_server.secagg.settings import SecAggKey, SecAggSettings

__all__ = [
    "RoundFailedError",
    "RoundPlan",
    "SecAggKey",
    "SecAggSettings",
    "SecureAggregator",
    "SecureOutcome",
    "SecureSum",
    "ServerRound",
    "choose_degree",
    "create_authority",
    "min_survivors",
    "plan_round",
    "provision_identities",
    "simulation_identities",
]
