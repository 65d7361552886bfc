"""Run-config keys of secure aggregation on the server (``secagg-*``).

* ``secure-aggregation`` (default false): run secure rounds even when the policy does not
  require them.
* ``secagg-authority`` (default none): the identity authorities' public keys (file or
  folder); required for secure rounds.
* ``secagg-timeout`` (default 300): seconds each stage waits for replies.
* ``secagg-max-dropout`` (default 0.1): share of the cohort that may drop while the round
  still publishes, in [0, 1/3); each extra 10 % costs about 5 % more noise.
* ``secagg-neighbours`` (default 0): neighbours per device; 0 lets
  :mod:`fl_server.secagg.planning` choose from the cohort and the dropout; a number at
  least the cohort minus one gives the complete graph.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from fl_server.errors import ServerConfigError

__all__ = ["SecAggKey", "SecAggSettings"]


class SecAggKey(enum.Enum):
    """Run-config keys of secure aggregation."""

    ENABLED = "secure-aggregation"
    AUTHORITY = "secagg-authority"
    TIMEOUT = "secagg-timeout"
    MAX_DROPOUT = "secagg-max-dropout"
    NEIGHBOURS = "secagg-neighbours"


@dataclass(frozen=True)
class SecAggSettings:
    """Validated secure-aggregation settings (see the module docstring)."""

    enabled: bool = False
    authority: Path | None = None
    timeout: float = 300.0
    max_dropout: float = 0.1
    neighbours: int = 0

    @classmethod
    def from_run_config(cls, config: Mapping[str, object]) -> SecAggSettings:
        """Parse the ``secagg-*`` keys.

        Raises
        ------
        ServerConfigError
            Naming the key whose value has the wrong type or range.
        """
        enabled = config.get(SecAggKey.ENABLED.value, False)
        authority = config.get(SecAggKey.AUTHORITY.value, "")
        if not isinstance(enabled, bool):
            raise ServerConfigError("run config: 'secure-aggregation' must be a boolean")
        timeout = config.get(SecAggKey.TIMEOUT.value, 300.0)
        dropout = config.get(SecAggKey.MAX_DROPOUT.value, 0.1)
        neighbours = config.get(SecAggKey.NEIGHBOURS.value, 0)
        if not isinstance(authority, str):
            raise ServerConfigError("run config: 'secagg-authority' must be a path")
        if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not timeout > 0:
            raise ServerConfigError("run config: 'secagg-timeout' must be a positive number")
        if isinstance(dropout, bool) or not isinstance(dropout, int | float):
            raise ServerConfigError("run config: 'secagg-max-dropout' must be a number")
        if not 0 <= dropout < 1 / 3:
            raise ServerConfigError("run config: 'secagg-max-dropout' must be in [0, 1/3)")
        if isinstance(neighbours, bool) or not isinstance(neighbours, int) or neighbours < 0:
            raise ServerConfigError("run config: 'secagg-neighbours' must be an integer >= 0")
        return cls(
            enabled=enabled,
            authority=Path(authority) if authority else None,
            timeout=float(timeout),
            max_dropout=float(dropout),
            neighbours=neighbours,
        )
