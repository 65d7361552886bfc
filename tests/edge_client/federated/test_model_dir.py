"""A device trains the model installed in its own ``model-dir`` (a variant), verified on load."""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flwr.app import Context

from edge_client.errors import ModelError
from edge_client.federated.app import handle_train
from edge_client.federated.device import FederatedDevice, device_from_config
from edge_client.federated.errors import FederatedError
from edge_client.models import default_model_dir

Build = Callable[..., Any]  # a pytest fixture factory


def _install(directory: Path, *, corrupt: bool = False) -> Path:
    directory.mkdir()
    for suffix in (".tflite", ".json"):
        shutil.copy(default_model_dir() / f"style{suffix}", directory / f"style{suffix}")
    if corrupt:
        blob = bytearray((directory / "style.tflite").read_bytes())
        blob[-1] ^= 0xFF
        (directory / "style.tflite").write_bytes(bytes(blob))
    return directory


def test_device_trains_the_model_of_its_model_dir(
    device: FederatedDevice, round_message: Build, context: Context, tmp_path: Path
) -> None:
    """A copy installed in ``model-dir`` trains; a tampered copy there is refused on load."""
    installed = dataclasses.replace(device, model_dir=str(_install(tmp_path / "ok")))
    assert not handle_train(installed, round_message(), context).has_error()
    tampered = dataclasses.replace(device, model_dir=str(_install(tmp_path / "bad", corrupt=True)))
    with pytest.raises(ModelError, match=r"style\.tflite"):
        handle_train(tampered, round_message(), context)


def test_model_dir_must_be_a_string() -> None:
    """A non-string ``model-dir`` in the device config is the project's error, naming the key."""
    with pytest.raises(FederatedError, match="model-dir"):
        device_from_config({"partition-id": 0}, {"model-trust": "keys.pub", "model-dir": 3})
