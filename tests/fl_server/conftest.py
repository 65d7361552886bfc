"""Shared fixtures: small test policies, run configs and an in-process federation."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from flwr.clientapp import ClientApp
from flwr.supercore.task_identity import TaskIdentity

from edge_client.federated.app import app as client_app
from fl_server.local_grid import LocalGrid
from fl_server.settings import ServerSettings

REPO = Path(__file__).resolve().parents[2]
PolicyFactory = Callable[..., Path]


@pytest.fixture(autouse=True)
def _task_identity() -> None:
    # Flower stamps messages with the process's task identity (a SuperLink sets it).
    TaskIdentity.run_id, TaskIdentity.node_id, TaskIdentity.task_id = 1, 1, 1


@pytest.fixture
def make_policy(tmp_path: Path) -> PolicyFactory:
    """Write the default policy with some [federated] values replaced; return its path."""

    def make(name: str = "small", **federated: object) -> Path:
        text = (REPO / "policies" / "default.toml").read_text(encoding="utf-8")
        values = {"min_cohort": 3, "sampling_rate": 0.5, "target_epsilon": 50.0, **federated}
        for key, value in values.items():
            literal = str(value).lower() if isinstance(value, bool) else repr(value)
            text, count = re.subn(rf"(?m)^{key} = .*$", f"{key} = {literal}", text, count=1)
            if count != 1:
                raise KeyError(key)
        path = tmp_path / f"{name}.toml"
        path.write_text(text, encoding="utf-8")
        return path

    return make


Federation = Callable[..., tuple[LocalGrid, ServerSettings, dict[str, object]]]


@pytest.fixture
def federation(tmp_path: Path, make_policy: PolicyFactory) -> Federation:
    """Return a factory of small in-process federations running the real ClientApp."""

    def build(
        nodes: int = 8,
        *,
        policy: Path | None = None,
        app: ClientApp | None = None,
        out: Path | None = None,
        **extra: bool | float | int | str,
    ) -> tuple[LocalGrid, ServerSettings, dict[str, object]]:
        target = out or tmp_path / "run"
        config: dict[str, bool | float | int | str] = {
            "policy": str(policy or make_policy()),
            "model-trust": str(target / "keys" / "model-signing.pub"),
            "output-dir": str(target),
            "num-rounds": 2,
            "seed": 3,
            "initial-model": "zero",
            "heldout-eval": False,
            **extra,
        }
        grid = LocalGrid(app or client_app, [{"partition-id": i} for i in range(nodes)], config)
        return grid, ServerSettings.from_run_config(config), dict(config)

    return build
