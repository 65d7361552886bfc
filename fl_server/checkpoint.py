"""Server checkpoints: resume after a restart without losing rounds or under-counting ε.

One msgpack file, replaced atomically and durably (written, fsynced, renamed, directory
fsynced): the policy hash and model it belongs to, the last completed round, the global
weights, every charged ledger entry with what it spent (q, σ, steps; charged before a
round's messages go out, so a crash mid-round is still counted), node participations, the
per-round history and the random generator's state.

On resume a round that was charged but never closed (the server died while it ran) is
recorded as ``interrupted``: it keeps its number and its ε, and the run goes on with the
next number, so an interruption never turns into an extra round beyond ``num-rounds``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import msgpack
import numpy as np
import numpy.typing as npt

from edge_client.decoding import DecodeError, Limits, loads_json, read_bounded, unpack_msgpack
from edge_client.policy.accounting import RoundCharge
from edge_client.store._fs import fsync_directory, temp_sibling, write_new_file
from fl_server.errors import CheckpointError
from fl_server.ledger import LedgerEntry

__all__ = ["CHECKPOINT_NAME", "CheckpointStore", "ServerState", "resume_note"]

CHECKPOINT_NAME = "checkpoint.msgpack"
"""File name of the checkpoint in a run's output directory."""

_MAX_BYTES = 1024 * 1024 * 1024
_LIMITS = Limits(max_bytes=_MAX_BYTES, max_depth=8, max_int=2**64 - 1, allow_non_finite=True)


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
        Every charged round, with what it spent.
    participations
        Node id to rounds joined this period.
    history
        Per-round records (metrics, ε, cohort, rejections), oldest first.
    rng_state
        JSON of the sampler's/noise generator's bit-generator state.
    velocity
        The server momentum's velocity (:mod:`fl_server.server_opt`; empty without it).
    model_sha256
        SHA-256 of the model file the run trains (empty in checkpoints written before it
        was recorded).
    """

    policy_hash: str
    model: str
    completed_round: int
    weights: Mapping[str, npt.NDArray[np.float32]]
    ledger: tuple[LedgerEntry, ...] = ()
    participations: Mapping[int, int] = field(default_factory=dict)
    history: tuple[Mapping[str, Any], ...] = ()
    rng_state: str = ""
    velocity: Mapping[str, npt.NDArray[np.float32]] = field(default_factory=dict)
    model_sha256: str = ""

    @property
    def rounds_started(self) -> int:
        """Return the highest round number begun (closed, skipped, charged or interrupted)."""
        numbers = [self.completed_round, *(int(h["round"]) for h in self.history)]
        return max(numbers + [e.round for e in self.ledger])

    def with_interrupted_rounds(self) -> ServerState:
        """Return the state with a history record for every charged round never closed.

        Returns
        -------
        ServerState
            The same state when every charged round has a record; otherwise one with an
            ``interrupted`` record (its cohort and the ε charged) per missing round.
        """
        closed = {int(h["round"]) for h in self.history}
        missing = [
            {
                "round": e.round,
                "status": "interrupted",
                "cohort": e.cohort,
                "epsilon": e.epsilon,
                "sampling_rate": e.sampling_rate,
            }
            for e in self.ledger
            if e.round not in closed
        ]
        if not missing:
            return self
        history = sorted([*self.history, *missing], key=lambda h: int(h["round"]))
        return replace(self, history=tuple(history))


def resume_note(state: ServerState, num_rounds: int, output_dir: Path) -> str | None:
    """Say plainly why a resumed run has nothing to train, or ``None`` when it has.

    Parameters
    ----------
    state
        The checkpointed state.
    num_rounds
        Rounds the run asks for in total.
    output_dir
        The run's output directory.

    Returns
    -------
    str or None
        The message (what is done, how to go on, how to start fresh), or ``None`` when
        rounds remain.
    """
    done = state.rounds_started
    if done < num_rounds:
        return None
    return (
        f"the checkpoint in {output_dir} already holds {done} round(s) and num-rounds is "
        f"{num_rounds}: nothing to train. Raise num-rounds to continue this run, or start "
        f"fresh with another output directory (or delete {output_dir / CHECKPOINT_NAME})."
    )


def _entry(raw: object, legacy: RoundCharge | None, where: str) -> LedgerEntry:
    if not isinstance(raw, list) or len(raw) not in (3, 6):
        raise CheckpointError(f"{where}: malformed ledger entry")
    if len(raw) == 3:  # written before per-round accounting: charge it conservatively
        if legacy is None:
            raise CheckpointError(f"{where}: ledger entry without its rate and noise")
        raw = [*raw, legacy.sampling_rate, legacy.noise_multiplier, legacy.steps]
    number, cohort, epsilon, rate, noise, steps = raw
    entry = LedgerEntry(
        int(number), int(cohort), float(epsilon), float(rate), float(noise), int(steps)
    )
    if not (
        entry.round >= 1
        and entry.cohort >= 0
        and 0 < entry.sampling_rate <= 1
        and 0 <= entry.noise_multiplier < math.inf
        and entry.steps >= 1
    ):
        raise CheckpointError(f"{where}: ledger entry out of range")
    return entry


def _history(raw: object, where: str) -> tuple[Mapping[str, Any], ...]:
    if not isinstance(raw, str):
        raise CheckpointError(f"{where}: malformed history")
    records = loads_json(raw, source=where, limits=_LIMITS)
    if not isinstance(records, list) or not all(
        isinstance(r, dict) and isinstance(r.get("round"), int) for r in records
    ):
        raise CheckpointError(f"{where}: malformed history")
    return tuple(records)


def _arrays_out(arrays: Mapping[str, npt.NDArray[np.float32]]) -> list[list[Any]]:
    return [
        [name, list(a.shape), np.array(a, "<f4", order="C").tobytes()]
        for name, a in sorted(arrays.items())
    ]


def _arrays_in(raw: Any) -> dict[str, npt.NDArray[np.float32]]:
    return {
        str(name): np.frombuffer(blob, "<f4").reshape(shape).astype(np.float32)
        for name, shape, blob in raw
    }


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
        """Write ``state`` atomically and durably (temporary file, fsync, rename, fsync).

        Raises
        ------
        CheckpointError
            When the file system refuses the write (the previous checkpoint stays).
        """
        document = {
            "policy_hash": state.policy_hash,
            "model": state.model,
            "completed_round": state.completed_round,
            "weights": _arrays_out(state.weights),
            "ledger": [
                [e.round, e.cohort, e.epsilon, e.sampling_rate, e.noise_multiplier, e.steps]
                for e in state.ledger
            ],
            "participations": [[int(k), int(v)] for k, v in sorted(state.participations.items())],
            "history": json.dumps(list(state.history)),
            "rng_state": state.rng_state,
            "velocity": _arrays_out(state.velocity),
            "model_sha256": state.model_sha256,
        }
        temporary = temp_sibling(self.path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            write_new_file(temporary, msgpack.packb(document, use_bin_type=True))
            temporary.replace(self.path)
            fsync_directory(self.path.parent)
        except OSError as exc:
            raise CheckpointError(f"{self.path}: cannot write ({exc.strerror})") from None
        finally:
            temporary.unlink(missing_ok=True)

    def load(
        self, *, policy_hash: str, model: str, legacy_charge: RoundCharge | None = None
    ) -> ServerState | None:
        """Return the saved state, or ``None`` when there is no checkpoint.

        Parameters
        ----------
        policy_hash, model
            What the run trains under; a checkpoint of another is refused.
        legacy_charge
            What each round of a checkpoint written before per-round accounting spent, at
            most: the policy's sampling rate (the strategy never samples faster) and noise
            multiplier (fixed by the policy hash). Without it such a checkpoint is refused.

        Raises
        ------
        CheckpointError
            When the file is unreadable or corrupt, or belongs to another policy or model.
        """
        if not self.path.exists():
            return None
        where = str(self.path)
        try:
            doc: Any = unpack_msgpack(
                read_bounded(self.path, max_bytes=_MAX_BYTES), source=where, limits=_LIMITS
            )
            weights = _arrays_in(doc["weights"])
            velocity = _arrays_in(doc.get("velocity", []))  # absent before server momentum
            if velocity and {k: v.shape for k, v in velocity.items()} != {
                k: v.shape for k, v in weights.items()
            }:
                raise CheckpointError(f"{where}: velocity does not match the weights")
            state = ServerState(
                policy_hash=str(doc["policy_hash"]),
                model=str(doc["model"]),
                completed_round=int(doc["completed_round"]),
                weights=weights,
                ledger=tuple(_entry(raw, legacy_charge, where) for raw in doc["ledger"]),
                participations={int(k): int(v) for k, v in doc["participations"]},
                history=_history(doc["history"], where),
                rng_state=str(doc["rng_state"]),
                velocity=velocity,
                model_sha256=str(doc.get("model_sha256", "")),
            )
        except CheckpointError:
            raise
        except DecodeError as exc:
            raise CheckpointError(f"unreadable checkpoint: {exc}") from None
        except (ValueError, KeyError, TypeError, OverflowError) as exc:
            kind = type(exc).__name__
            raise CheckpointError(f"{where}: unreadable checkpoint ({kind})") from None
        if state.policy_hash != policy_hash or state.model != model:
            raise CheckpointError(
                f"{self.path}: checkpoint is for another policy or model; "
                "use another output directory"
            )
        return state
