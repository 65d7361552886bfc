"""What a federated round asks of a device, and whether the device may say yes.

The server's train message holds two records: ``config`` (the policy fields of
:class:`~edge_client.policy.RoundKey` plus the training plan of :class:`PlanKey`) and
``bundle`` (the signed global model, :mod:`edge_client.federated.bundle`). The reply holds
``arrays`` (the clipped update) and ``metrics`` (only the metrics the policy allows).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass

from edge_client.federated.errors import RoundConfigError
from edge_client.federated.trainable import FederatedModel
from edge_client.federated.training import TrainSettings
from edge_client.policy import ConsentState, PolicyEngine

__all__ = ["PlanKey", "RecordName", "RoundPlan", "parse_plan", "refusal_reasons"]


class RecordName(enum.Enum):
    """Names of the records in federated messages."""

    CONFIG = "config"
    BUNDLE = "bundle"
    ARRAYS = "arrays"
    METRICS = "metrics"


BUNDLE_FIELD = "data"


class PlanKey(enum.Enum):
    """Training-plan keys of a round's configuration (beside the policy's RoundKey)."""

    MODEL = "model"
    SERVER_ROUND = "server-round"
    LOCAL_EPOCHS = "local-epochs"
    BATCH_SIZE = "batch-size"
    LEARNING_RATE = "learning-rate"
    L2 = "l2"


@dataclass(frozen=True)
class RoundPlan:
    """A round's training plan as the device reads it.

    Attributes
    ----------
    model
        Which shipped model to train (``style``, ``interests`` or ``ranking``).
    server_round
        The server's round number (also the minimum bundle version).
    settings
        Local training settings.
    """

    model: FederatedModel
    server_round: int
    settings: TrainSettings


def _int(config: Mapping[str, object], key: PlanKey, default: int) -> int:
    value = config.get(key.value, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise RoundConfigError(f"round config: field {key.value!r} must be an integer")
    return value


def _float(config: Mapping[str, object], key: PlanKey, default: float) -> float:
    value = config.get(key.value, default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise RoundConfigError(f"round config: field {key.value!r} must be a number")
    return float(value)


def parse_plan(config: Mapping[str, object], *, seed: int = 0) -> RoundPlan:
    """Read the training plan of a round.

    Parameters
    ----------
    config
        The round's ``config`` record.
    seed
        FederatedDevice-specific seed mixed into the shuffling seed.

    Returns
    -------
    RoundPlan
        The plan.

    Raises
    ------
    RoundConfigError
        When a field is missing, has the wrong type or is out of range.
    """
    name = config.get(PlanKey.MODEL.value)
    try:
        model = FederatedModel(name)
    except ValueError:
        raise RoundConfigError("round config: field 'model' names no federated model") from None
    server_round = _int(config, PlanKey.SERVER_ROUND, 0)
    try:
        settings = TrainSettings(
            epochs=_int(config, PlanKey.LOCAL_EPOCHS, 1),
            batch_size=_int(config, PlanKey.BATCH_SIZE, 16),
            learning_rate=_float(config, PlanKey.LEARNING_RATE, 0.5),
            l2=_float(config, PlanKey.L2, 0.0),
            seed=seed * 1_000_003 + server_round,
        )
    except ValueError as exc:
        raise RoundConfigError(f"round config: {exc}") from None
    return RoundPlan(model, server_round, settings)


def refusal_reasons(
    engine: PolicyEngine,
    config: Mapping[str, object],
    *,
    consent: ConsentState,
    participations: int,
) -> list[str]:
    """Return every reason this device must refuse the round (empty: it may join).

    The policy checks of :meth:`PolicyEngine.check_round_config` (policy hash, cohort k,
    sampling rate, clipping norm, DP, secure aggregation, metrics, participation cap,
    consent to federated training) plus a readable training plan. Reasons never hold
    user data.

    Parameters
    ----------
    engine
        The device's policy engine.
    config
        The round's ``config`` record.
    consent
        The person's consent state.
    participations
        Rounds this device already joined in the period.

    Returns
    -------
    list[str]
        Reasons, in a fixed order.
    """
    reasons = engine.check_round_config(config, participations=participations, consent=consent)
    try:
        parse_plan(config)
    except RoundConfigError as exc:
        reasons.append(str(exc))
    return reasons
