"""One plain federated train round, sent by hand.

Shared by the benchmarks that time or score rounds outside the policy strategy
(``bench_population``, ``bench_adaptation``).

The devices are the project's real ClientApp behind any Flower ``Grid``; the round carries
the same signed bundle and round configuration the policy strategy would send, so a device
checks and trains exactly as in a real round.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["PlainRound", "send_plain_round"]


@dataclass(frozen=True)
class PlainRound:
    """What a hand-sent round needs besides the model: the local training settings."""

    local_epochs: int
    learning_rate: float
    batch_size: int
    sampling_rate: float


def send_plain_round(
    grid: Any,
    sample: Sequence[int],
    *,
    server_round: int,
    weights: Mapping[str, npt.NDArray[np.float32]],
    engine: Any,
    key: Any,
    plan: PlainRound,
    model: str = "interests",
) -> list[Any]:
    """Sign ``weights`` as the round's bundle, send a plain train round to ``sample``.

    Parameters
    ----------
    grid
        A Flower ``Grid`` (e.g. ``fl_server.local_grid.LocalGrid``).
    sample
        Node ids of the round's cohort.
    server_round
        Round number (the bundle's version is ``server_round - 1``).
    weights
        The model's trainable weights by name.
    engine
        The policy engine of the run (its hash and federated rules go into the config).
    key
        The server's Ed25519 signing key.
    plan
        Local training settings and the sampling rate announced to devices.
    model
        Which shipped model the devices train.

    Returns
    -------
    list
        Every reply message, error replies included.
    """
    from flwr.app import ConfigRecord, Message, MessageType, RecordDict

    from fl_server.publish import sign_model_bundle

    rules = engine.federated
    bundle = sign_model_bundle(
        private_key=key,
        model=model,
        version=server_round - 1,
        weights=dict(weights),
        metrics={},
        policy_hash=engine.policy_hash,
    )
    config: dict[str, Any] = {
        "policy_hash": engine.policy_hash,
        "cohort_size": len(sample),
        "sampling_rate": plan.sampling_rate,
        "clipping_norm": rules.clipping_norm,
        "noise_multiplier": rules.noise_multiplier,
        "secure_aggregation": False,
        "metrics": sorted(engine.allowed_metric_names()),
        "model": model,
        "server-round": server_round,
        "local-epochs": plan.local_epochs,
        "learning-rate": plan.learning_rate,
        "batch-size": plan.batch_size,
        "l2": 0.0,
    }
    content = RecordDict({"config": ConfigRecord(config), "bundle": ConfigRecord({"data": bundle})})
    messages = [Message(content, dst_node_id=n, message_type=MessageType.TRAIN) for n in sample]
    return list(grid.send_and_receive(messages))
