"""The shipped policy presets: ``default`` (balanced), ``strict`` and ``research``.

The presets are package data (``edge_client/assets/policies``), so an installed wheel has
them; the repository's ``policies/`` folder links to the same files.
"""

from __future__ import annotations

import enum
from importlib import resources
from pathlib import Path

from edge_client.policy.errors import PolicyError
from edge_client.policy.loader import load_policy
from edge_client.policy.model import Policy

__all__ = ["POLICIES_DIR", "Preset", "load_preset", "preset_path"]

POLICIES_DIR = Path(str(resources.files("edge_client") / "assets" / "policies"))


class Preset(enum.Enum):
    """A shipped policy preset."""

    DEFAULT = "default"
    STRICT = "strict"
    RESEARCH = "research"


def preset_path(preset: Preset) -> Path:
    """Return the TOML file of ``preset``.

    Parameters
    ----------
    preset
        The preset.

    Returns
    -------
    Path
        ``edge_client/assets/policies/<name>.toml``.

    Raises
    ------
    PolicyError
        When the file is not there (a broken installation).
    """
    path = POLICIES_DIR / f"{preset.value}.toml"
    if not path.is_file():
        raise PolicyError(f"{path}: preset {preset.value!r} not found")
    return path


def load_preset(preset: Preset) -> Policy:
    """Load and validate a shipped preset.

    Parameters
    ----------
    preset
        The preset.

    Returns
    -------
    Policy
        The validated policy (epsilon is checked by ``lint``, not here).
    """
    return load_policy(preset_path(preset))
