"""The server's run configuration: ``[tool.flwr.app.config]`` and ``--run-config``.

Every key is a :class:`RunKey`; :meth:`ServerSettings.from_run_config` checks types and
ranges and names the key at fault. Paths are relative to the working directory of the
process running the ServerApp (the repository root for ``flwr run .``).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from edge_client.federated.trainable import FederatedModel
from fl_server.errors import ServerConfigError
from fl_server.secagg.settings import SecAggSettings
from fl_server.server_opt import ServerOptimizer
from fl_server.strategy import TrainPlan

__all__ = ["InitialModel", "RunKey", "ServerSettings"]


class RunKey(enum.Enum):
    """Run-config keys read by the server (the device reads its own, see DeviceKey)."""

    NUM_ROUNDS = "num-rounds"
    MODEL = "model"
    POLICY = "policy"
    SAMPLING_RATE = "sampling-rate"
    LOCAL_EPOCHS = "local-epochs"
    BATCH_SIZE = "batch-size"
    LEARNING_RATE = "learning-rate"
    L2 = "l2"
    SEED = "seed"
    OUTPUT_DIR = "output-dir"
    SIGNING_KEY = "signing-key"
    INITIAL_MODEL = "initial-model"
    FRACTION_EVALUATE = "fraction-evaluate"
    HELDOUT_EVAL = "heldout-eval"
    DATA = "data"
    POPULATION_SEED = "population-seed"
    SERVER_LEARNING_RATE = "server-learning-rate"
    SERVER_MOMENTUM = "server-momentum"
    MODEL_DIR = "model-dir"


class InitialModel(enum.Enum):
    """Where the first global model comes from."""

    SHIPPED = "shipped"
    ZERO = "zero"


@dataclass(frozen=True)
class ServerSettings:
    """A validated server configuration (see :class:`RunKey` for the keys)."""

    num_rounds: int
    policy: str
    sampling_rate: float
    plan: TrainPlan
    seed: int
    output_dir: Path
    signing_key: Path
    initial_model: InitialModel
    fraction_evaluate: float
    heldout_eval: bool
    data: str
    population_seed: int
    secagg: SecAggSettings = field(default_factory=SecAggSettings)
    optimizer: ServerOptimizer = field(default_factory=ServerOptimizer)
    model_dir: str = ""

    @classmethod
    def from_run_config(cls, config: Mapping[str, object]) -> ServerSettings:
        """Parse a run configuration.

        Raises
        ------
        ServerConfigError
            Naming the key whose value has the wrong type or range.
        """

        def get(key: RunKey, kind: type, default: object) -> object:
            value = config.get(key.value, default)
            ok = isinstance(value, kind) and not (kind is not bool and isinstance(value, bool))
            if kind is float and isinstance(value, int) and not isinstance(value, bool):
                value, ok = float(value), True
            if not ok:
                raise ServerConfigError(f"run config: {key.value!r} must be {kind.__name__}")
            return value

        try:
            model = FederatedModel(get(RunKey.MODEL, str, "style"))
            initial = InitialModel(get(RunKey.INITIAL_MODEL, str, "shipped"))
        except ValueError:
            raise ServerConfigError("run config: 'model' or 'initial-model' is unknown") from None
        output = Path(str(get(RunKey.OUTPUT_DIR, str, "runs/federated")))
        key = str(get(RunKey.SIGNING_KEY, str, ""))
        plan = TrainPlan(
            model=model,
            local_epochs=int(get(RunKey.LOCAL_EPOCHS, int, 1)),  # type: ignore[call-overload]  # get() checked the type
            batch_size=int(get(RunKey.BATCH_SIZE, int, 16)),  # type: ignore[call-overload]  # idem
            learning_rate=float(get(RunKey.LEARNING_RATE, float, 0.5)),  # type: ignore[arg-type]  # idem
            l2=float(get(RunKey.L2, float, 0.0)),  # type: ignore[arg-type]  # idem
        )
        settings = cls(
            num_rounds=int(get(RunKey.NUM_ROUNDS, int, 10)),  # type: ignore[call-overload]  # idem
            policy=str(get(RunKey.POLICY, str, "default")),
            sampling_rate=float(get(RunKey.SAMPLING_RATE, float, 0.0)),  # type: ignore[arg-type]  # idem
            plan=plan,
            seed=int(get(RunKey.SEED, int, -1)),  # type: ignore[call-overload]  # idem
            output_dir=output,
            signing_key=Path(key) if key else output / "keys" / "model-signing.key",
            initial_model=initial,
            fraction_evaluate=float(get(RunKey.FRACTION_EVALUATE, float, 0.0)),  # type: ignore[arg-type]  # idem
            heldout_eval=bool(get(RunKey.HELDOUT_EVAL, bool, True)),
            data=str(get(RunKey.DATA, str, "")),
            population_seed=int(get(RunKey.POPULATION_SEED, int, 0)),  # type: ignore[call-overload]  # idem
            secagg=SecAggSettings.from_run_config(config),
            model_dir=str(get(RunKey.MODEL_DIR, str, "")),
            optimizer=ServerOptimizer(
                learning_rate=float(get(RunKey.SERVER_LEARNING_RATE, float, 1.0)),  # type: ignore[arg-type]  # idem
                momentum=float(get(RunKey.SERVER_MOMENTUM, float, 0.0)),  # type: ignore[arg-type]  # idem
            ),
        )
        if settings.num_rounds < 1 or plan.local_epochs < 1 or plan.batch_size < 1:
            raise ServerConfigError("run config: num-rounds, local-epochs, batch-size must be >= 1")
        if not 0 <= settings.sampling_rate <= 1 or not 0 <= settings.fraction_evaluate <= 1:
            raise ServerConfigError(
                "run config: sampling-rate and fraction-evaluate must be in [0, 1]"
            )
        if not plan.learning_rate > 0 or plan.l2 < 0:
            raise ServerConfigError("run config: learning-rate must be > 0 and l2 >= 0")
        return settings
