"""The shipped policy presets: ``default`` (balanced), ``strict`` and ``research``.

The presets are package data (``edge_client/assets/policies``), so an installed wheel has
them; the repository's ``policies/`` folder links to the same files. Wherever a policy is
named — :func:`~edge_client.policy.load_policy`, ``EdgeProfiler(policy=...)``, the command
line — a preset's name comes first and any other string is a file path.
"""

from __future__ import annotations

import enum
from importlib import resources
from pathlib import Path

from edge_client.errors import ArgumentError
from edge_client.policy.errors import PolicyError
from edge_client.policy.loader import load_policy
from edge_client.policy.model import Policy

__all__ = ["POLICIES_DIR", "Preset", "load_preset", "policy_file", "preset_path"]

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


def policy_file(source: str | Path | Preset) -> Path:
    """Return the TOML file a policy argument names: a preset (by member or name) or a path.

    Parameters
    ----------
    source
        :class:`Preset`, a preset's name (``"default"``, ``"strict"``, ``"research"``, any
        case) or the path of a policy TOML file.

    Returns
    -------
    Path
        The file to read.

    Raises
    ------
    PolicyError
        When ``source`` is a string that is neither a preset name nor an existing file.
    ArgumentError
        When ``source`` is not a string, a path or a preset.
    """
    if isinstance(source, Preset):
        return preset_path(source)
    if isinstance(source, str):
        by_name = {p.value: p for p in Preset}
        preset = by_name.get(source.strip().lower())
        if preset is not None:
            return preset_path(preset)
    elif not isinstance(source, Path):
        raise ArgumentError(
            f"policy: expected a preset name, a Preset or a path, got {type(source).__name__}"
        )
    path = Path(source)
    if not path.exists():
        names = ", ".join(repr(p.value) for p in Preset)
        raise PolicyError(f"{path}: no such policy file (and not a preset name: {names})")
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
