"""Where the data shipped inside :mod:`edge_client` lives (models, lexicons, taxonomy, ...).

The files are read from the installed package's own folder. ``importlib.resources`` would
give the same paths for an installed package, but costs about 9 ms and 1.9 MB at start
(it imports ``zipfile`` and the compression modules), which a profile does not need.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["ASSETS_DIR", "asset_path"]

ASSETS_DIR = Path(__file__).parent / "assets"
"""The ``edge_client/assets`` folder of the installed package."""


def asset_path(*parts: str) -> Path:
    """Return the path of a packaged file or folder, e.g. ``asset_path("models")``.

    Parameters
    ----------
    *parts : str
        Path components below ``edge_client/assets``.

    Returns
    -------
    pathlib.Path
        The path (not checked for existence: the caller's loader reports a missing file).
    """
    return ASSETS_DIR.joinpath(*parts)
