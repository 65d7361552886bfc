"""The server's step: apply each round's noised mean update, optionally with momentum.

FedAvg applies the round's mean update as it is. With server momentum (FedAvgM, Hsu et al.
2019, "Measuring the effects of non-identical data distribution"; the update rule of
Flower's ``flwr.serverapp.strategy.FedAvgM``) the server keeps a velocity
``v ← β·v + Δ`` and moves the model by ``η·v``. On a population whose devices hold one to
three posts each, one round's mean update is a single short step; momentum carries the
direction the rounds agree on and averages out what they do not, including the DP noise.

Privacy: the step reads only the round's *noised* aggregate (after clipping and the
Gaussian mechanism, or the securely aggregated noised sum), so it is post-processing and
spends no privacy budget; the ledger is unchanged. The velocity is part of the server
checkpoint, so a resumed run continues the same trajectory.

Why not Flower's ``FedAvgM`` object itself: it aggregates raw replies (weights, weighted
by example counts) and keeps its momentum in memory, while the policy strategy must
aggregate clipped updates with equal weights, add noise first and checkpoint every round.
The rule is the same two lines; ``tests/fl_server/test_server_opt.py`` checks it against
Flower's ``FedAvgM`` round by round.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from fl_server.errors import ServerConfigError

__all__ = ["ServerOptimizer", "Weights"]

Weights = Mapping[str, npt.NDArray[np.float32]]

_MAX_LEARNING_RATE = 10.0


@dataclass(frozen=True)
class ServerOptimizer:
    """How the server applies a round's noised mean update.

    Attributes
    ----------
    learning_rate : float
        Server step size ``η`` in (0, 10]; 1.0 with no momentum is plain FedAvg.
    momentum : float
        Server momentum ``β`` in [0, 1); 0 keeps no velocity.
    """

    learning_rate: float = 1.0
    momentum: float = 0.0

    def __post_init__(self) -> None:
        """Refuse a step size or momentum outside its range (names the run-config key)."""
        if not (math.isfinite(self.learning_rate) and 0 < self.learning_rate <= _MAX_LEARNING_RATE):
            raise ServerConfigError(
                f"run config: server-learning-rate must be in (0, {_MAX_LEARNING_RATE:g}], "
                f"got {self.learning_rate!r}"
            )
        if not (math.isfinite(self.momentum) and 0 <= self.momentum < 1):
            raise ServerConfigError(
                f"run config: server-momentum must be in [0, 1), got {self.momentum!r}"
            )

    @property
    def plain(self) -> bool:
        """Whether this is plain FedAvg (step 1, no momentum)."""
        return self.learning_rate == 1.0 and self.momentum == 0.0

    def step(
        self, weights: Weights, update: Weights, velocity: Weights
    ) -> tuple[dict[str, npt.NDArray[np.float32]], dict[str, npt.NDArray[np.float32]]]:
        """Return the new weights and velocity after one round's mean update.

        Parameters
        ----------
        weights
            The global weights before the round.
        update
            The round's noised mean update, one array per weight.
        velocity
            The velocity after the previous round (empty before the first round or
            without momentum).

        Returns
        -------
        tuple of dict
            New weights (float32) and new velocity (empty without momentum).
        """
        if self.momentum == 0.0:
            moved = {name: update[name] for name in weights}
            kept: dict[str, npt.NDArray[np.float32]] = {}
        else:
            moved = {
                name: (
                    np.float32(self.momentum) * velocity[name] + update[name]
                    if name in velocity
                    else update[name]
                ).astype(np.float32)
                for name in weights
            }
            kept = moved
        new = {
            name: (weights[name] + np.float32(self.learning_rate) * moved[name]).astype(np.float32)
            for name in weights
        }
        return new, kept
