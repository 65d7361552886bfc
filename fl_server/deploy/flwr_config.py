"""Flower 1.41 configuration written for a deployment: connections, run and node config.

* :func:`write_connection` writes ``$FLWR_HOME/config.toml`` with one SuperLink
  connection (``[superlink.<name>]``: ``address`` as ``host:port``, ``root-certificates``
  for TLS or ``insecure = true``) and makes it the default; ``flwr run . <name>``,
  ``flwr ls``, ``flwr supernode register`` read it.
* :func:`toml_document` writes a run-config override file for ``flwr run --run-config
  <file>.toml`` (its keys must exist in ``[tool.flwr.app.config]``).
* :func:`node_config_arg` formats a SuperNode's ``--node-config`` (``key=value`` pairs
  with TOML values; strings may not hold quotes or backslashes, which that syntax
  cannot escape).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path

from fl_server.deploy.errors import DeployError
from fl_server.deploy.files import private_dir, write_private

__all__ = [
    "ConfigValue",
    "node_config_arg",
    "toml_document",
    "toml_value",
    "write_connection",
]

ConfigValue = bool | int | float | str
_KEY_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-_")


def toml_value(value: ConfigValue) -> str:
    """Return ``value`` as a TOML literal.

    Raises
    ------
    DeployError
        For a non-finite float or an unsupported type.
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise DeployError("config: non-finite floats cannot be written")
        return repr(value)
    if isinstance(value, str):
        # JSON string escapes (\", \\, \n, \uXXXX with ensure_ascii) are valid TOML.
        return json.dumps(value, ensure_ascii=True)
    raise DeployError(f"config: values must be bool, int, float or str, not {type(value)}")


def _key(key: str) -> str:
    if not key or not set(key.lower()) <= _KEY_CHARACTERS:
        raise DeployError(f"config: key {key!r} must be letters, digits, '-' or '_'")
    return key


def toml_document(values: Mapping[str, ConfigValue]) -> str:
    """Return a flat TOML document of ``values`` (a ``--run-config`` override file)."""
    return "".join(f"{_key(k)} = {toml_value(v)}\n" for k, v in values.items())


def node_config_arg(values: Mapping[str, ConfigValue]) -> str:
    """Return the ``--node-config`` argument of a SuperNode.

    Raises
    ------
    DeployError
        When a key is malformed or a string value holds a quote or a backslash.
    """
    parts = []
    for key, value in values.items():
        if isinstance(value, str) and ('"' in value or "'" in value or "\\" in value):
            raise DeployError(f"node config: value of {key!r} may not contain quotes")
        parts.append(f"{_key(key)}={toml_value(value)}")
    return " ".join(parts)


def write_connection(
    home: Path,
    *,
    name: str,
    address: str,
    root_certificate: Path | None,
) -> Path:
    """Write ``<home>/config.toml`` with one default SuperLink connection.

    Parameters
    ----------
    home
        The ``FLWR_HOME`` folder (created 0700).
    name
        Connection name (``flwr run . <name>``).
    address
        SuperLink address ``host:port`` (no URL scheme).
    root_certificate
        CA certificate for TLS, or ``None`` for an insecure connection.

    Returns
    -------
    Path
        The file written.
    """
    private_dir(home)
    lines = [
        "[superlink]",
        f"default = {toml_value(_key(name))}",
        "",
        f"[superlink.{_key(name)}]",
        f"address = {toml_value(address)}",
    ]
    if root_certificate is None:
        lines.append("insecure = true")
    else:
        lines.append(f"root-certificates = {toml_value(str(root_certificate.resolve()))}")
    return write_private(home / "config.toml", ("\n".join(lines) + "\n").encode(), overwrite=True)
