"""Server checkpoints: resume after a restart without losing rounds or under-counting ε.

One msgpack file, replaced atomically: the policy hash and model it belongs to, the last
completed round, the global weights, every charged ledger entry (charged before a round's
messages go out, so a crash mid-round is still counted), node participations, the
per-round history and the random generator's state.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgpack
import numpy as np
import numpy.typing as npt

from fl_server.errors import CheckpointError
from fl_server.ledger import LedgerEntry

__all__ = ["CheckpointStore", "ServerState"]


@dataclass(frozen=True)
class ServerState:
    """Everything a restarted server needs.

    Attributes
    ----------
    policy_hash, model
        What the run trains under and what it trains.
    completed_round
        Last round whose model was published (0: the initial model).
    weights
        The global weights after ``completed_round``.
    ledger
        Every charged round.
    participations
        Node id to rounds joined this period.
    history
        Per-round records (metrics, ε, cohort, rejections), oldest first.
    rng_state
        JSON of the sampler's/noise generator's bit-generator state.
    """

    policy_hash: str
    model: str
    completed_round: int
    weights: Mapping[str, npt.NDArray[np.float32]]
    ledger: tuple[LedgerEntry, ...] = ()
    participations: Mapping[int, int] = field(default_factory=dict)
    history: tuple[Mapping[str, Any], ...] = ()
    rng_state: str = ""


class CheckpointStore:
    """Read and write one server checkpoint file.

    Parameters
    ----------
    path
        The checkpoint file.
    """

    def __init__(self, path: Path) -> None:
        self.path = path

    def save(self, state: ServerState) -> None:
        """Write ``state`` atomically (temporary file, then rename)."""
        document = {
            "policy_hash": state.policy_hash,
            "model": state.model,
            "completed_round": state.completed_round,
            "weights": [
                [name, list(a.shape), np.array(a, "<f4", order="C").tobytes()]
                for name, a in sorted(state.weights.items())
            ],
            "ledger": [[e.round, e.cohort, e.epsilon] for e in state.ledger],
            "participations": [[int(k), int(v)] for k, v in sorted(state.participations.items())],
            "history": json.dumps(list(state.history)),
            "rng_state": state.rng_state,
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(".tmp")
        temporary.write_bytes(msgpack.packb(document, use_bin_type=True))
        temporary.replace(self.path)

    def load(self, *, policy_hash: str, model: str) -> ServerState | None:
        """Return the saved state, or ``None`` when there is no checkpoint.

        Raises
        ------
        CheckpointError
            When the file is corrupt or belongs to another policy or model.
        """
        if not self.path.exists():
            return None
        try:
            doc = msgpack.unpackb(self.path.read_bytes(), raw=False, strict_map_key=False)
            weights = {
                str(name): np.frombuffer(blob, "<f4").reshape(shape).astype(np.float32)
                for name, shape, blob in doc["weights"]
            }
            state = ServerState(
                policy_hash=str(doc["policy_hash"]),
                model=str(doc["model"]),
                completed_round=int(doc["completed_round"]),
                weights=weights,
                ledger=tuple(LedgerEntry(int(r), int(c), float(e)) for r, c, e in doc["ledger"]),
                participations={int(k): int(v) for k, v in doc["participations"]},
                history=tuple(json.loads(doc["history"])),
                rng_state=str(doc["rng_state"]),
            )
        except (OSError, ValueError, KeyError, TypeError, msgpack.ExtraData) as exc:
            raise CheckpointError(
                f"{self.path}: unreadable checkpoint ({type(exc).__name__})"
            ) from None
        if state.policy_hash != policy_hash or state.model != model:
            raise CheckpointError(
                f"{self.path}: checkpoint is for another policy or model; "
                "use another output directory"
            )
        return state
