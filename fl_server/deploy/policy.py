"""The policy of a small loopback federation: a preset with a cohort a laptop can reach.

The shipped presets ask for cohorts of 50 (default), 10 (research) or 100 (strict)
devices sampled at a few percent, which a handful of local SuperNodes can never reach.
:func:`write_loopback_policy` copies a preset and replaces only ``[federated]``
``min_cohort``, ``sampling_rate`` and ``target_epsilon``; every other boundary (DP noise,
clipping, allowed metrics, consent, categories) stays the preset's. The result is
validated with the project's policy loader. It is for local demonstrations and tests
only: a real federation runs under a signed production policy.
"""

from __future__ import annotations

import re
from pathlib import Path

from edge_client.policy import Preset, load_policy
from edge_client.policy.presets import preset_path
from fl_server.deploy.errors import DeployError
from fl_server.deploy.files import write_private

__all__ = ["write_loopback_policy"]


def write_loopback_policy(
    path: str | Path,
    *,
    min_cohort: int = 2,
    sampling_rate: float = 1.0,
    target_epsilon: float = 50.0,
    preset: Preset = Preset.DEFAULT,
) -> Path:
    """Write ``preset`` with a loopback-sized cohort to ``path`` and validate it.

    Parameters
    ----------
    path
        The policy file to write (0600).
    min_cohort
        ``[federated] min_cohort`` (k), at least 2.
    sampling_rate
        ``[federated] sampling_rate``; 1.0 asks every connected SuperNode each round.
    target_epsilon
        ``[federated] target_epsilon``: without sampling amplification a few rounds
        already spend several ε.
    preset
        The policy copied.

    Returns
    -------
    Path
        The validated policy file.

    Raises
    ------
    DeployError
        When the preset lacks one of the keys.
    """
    text = preset_path(preset).read_text(encoding="utf-8")
    values = {
        "min_cohort": str(int(min_cohort)),
        "sampling_rate": repr(float(sampling_rate)),
        "target_epsilon": repr(float(target_epsilon)),
    }
    head, marker, federated = text.partition("[federated]")
    if not marker:
        raise DeployError(f"{preset_path(preset)}: no [federated] table")
    for key, literal in values.items():
        federated, count = re.subn(rf"(?m)^{key}\s*=.*$", f"{key} = {literal}", federated, count=1)
        if count != 1:
            raise DeployError(f"{preset_path(preset)}: [federated] lacks {key!r}")
    file = write_private(path, (head + marker + federated).encode("utf-8"), overwrite=True)
    load_policy(file)  # raises PolicyValidationError naming the field when out of range
    return file
