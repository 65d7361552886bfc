"""Tests for the packaged-data paths."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from edge_client.packaged import ASSETS_DIR, asset_path


def test_assets_dir_is_what_importlib_resources_names() -> None:
    """The assets folder is the installed package's, as ``importlib.resources`` finds it."""
    expected = Path(str(resources.files("edge_client") / "assets"))
    assert ASSETS_DIR.resolve() == expected.resolve()
    assert asset_path("models", "style.tflite").is_file()
    assert asset_path("lexicons").is_dir() and asset_path("taxonomy.json").is_file()
