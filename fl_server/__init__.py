"""fl_server: the Flower ServerApp that trains the shipped models under a privacy policy.

``fl_server.app:app`` is the ServerApp (``flwr run .`` reads it from ``pyproject.toml``);
:class:`PolicyStrategy` wraps Flower's own ``FedAvg`` with Poisson sampling, a minimum
cohort, update validation, Gaussian noise and the :class:`PrivacyLedger`; the
:class:`Publisher` signs every global model. Names are imported on first use (PEP 562), so
``edgeprof`` starts without loading Flower.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__all__ = [
    "CheckpointStore",
    "PolicyStrategy",
    "PrivacyLedger",
    "Publisher",
    "RunResult",
    "ServerError",
    "ServerSettings",
    "app",
    "policy_fedavg",
    "run_server",
    "sign_model_bundle",
]

_LAZY = {
    "CheckpointStore": "fl_server.checkpoint",
    "PolicyStrategy": "fl_server.strategy",
    "PrivacyLedger": "fl_server.ledger",
    "Publisher": "fl_server.publish",
    "RunResult": "fl_server.app",
    "ServerError": "fl_server.errors",
    "ServerSettings": "fl_server.settings",
    "app": "fl_server.app",
    "policy_fedavg": "fl_server.strategy",
    "run_server": "fl_server.app",
    "sign_model_bundle": "fl_server.publish",
}

if TYPE_CHECKING:
    from fl_server.app import RunResult, app, run_server
    from fl_server.checkpoint import CheckpointStore
    from fl_server.errors import ServerError
    from fl_server.ledger import PrivacyLedger
    from fl_server.publish import Publisher, sign_model_bundle
    from fl_server.settings import ServerSettings
    from fl_server.strategy import PolicyStrategy, policy_fedavg


def __getattr__(name: str) -> Any:
    """Import a public name on first use."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'fl_server' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
