"""Provisioning device identities: the identity authority's side (not the aggregation server's).

:func:`create_authority` makes the authority's Ed25519 key pair; :func:`provision_identities`
makes a fresh identity key for each named device, certifies it, and writes an identity file
(0600). In a deployment each device's file holds only its own entry and is made where the
device is provisioned; the authority's private key stays with the provisioning service,
never with the server that aggregates (see :mod:`edge_client.secagg.identity`). The
simulation and the loopback deployment act as that service on one machine.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from edge_client.policy.keys import generate_private_key, load_private_key, write_keypair
from edge_client.secagg.identity import issue_certificate, raw_public_key, write_identities

__all__ = [
    "DeviceIdentities",
    "create_authority",
    "provision_device_identities",
    "provision_identities",
    "simulation_identities",
]


def create_authority(prefix: str | Path) -> tuple[Path, Path]:
    """Write ``prefix.key`` and ``prefix.pub``: a new identity authority (never overwrites)."""
    return write_keypair(generate_private_key(), prefix)


def provision_identities(
    path: str | Path, names: Iterable[str], authority: Ed25519PrivateKey
) -> Path:
    """Write one identity file holding a fresh, certified identity per device name.

    Parameters
    ----------
    path
        The identity file to create (never overwritten).
    names
        Device names.
    authority
        The identity authority's signing key.

    Returns
    -------
    Path
        The file.
    """
    entries = {}
    for name in names:
        key = Ed25519PrivateKey.generate()
        certificate = issue_certificate(
            authority, device=name, key=raw_public_key(key.public_key())
        )
        entries[name] = (key.private_bytes_raw(), certificate)
    return write_identities(path, entries)


def simulation_identities(directory: str | Path, devices: int) -> tuple[Path, Path]:
    """Provision ``virtual-0`` … ``virtual-<devices-1>`` for a simulation (reused if present).

    Parameters
    ----------
    directory
        Where ``identity-authority.{key,pub}`` and ``identities.msgpack`` go.
    devices
        Number of virtual devices.

    Returns
    -------
    tuple[Path, Path]
        The identity file and the authority's public key (``secagg-identity``,
        ``secagg-authority``).
    """
    folder = Path(directory)
    prefix = folder / "identity-authority"
    key, public = prefix.with_suffix(".key"), prefix.with_suffix(".pub")
    file = folder / f"identities-{devices}.msgpack"
    if not key.exists():
        create_authority(prefix)
    if not file.exists():
        names = (f"virtual-{i}" for i in range(devices))
        provision_identities(file, names, load_private_key(key))
    return file, public


@dataclass(frozen=True)
class DeviceIdentities:
    """Identity files of a deployment's devices, one per device, and the authority's key.

    Attributes
    ----------
    files
        Device name to its own identity file (0600, holding only its entry).
    authority
        The authority's public key (``secagg-authority`` of the server and the devices).
    """

    files: Mapping[str, Path]
    authority: Path


def provision_device_identities(directory: str | Path, names: Iterable[str]) -> DeviceIdentities:
    """Make an authority (if absent) and one identity file per device under ``directory``.

    Parameters
    ----------
    directory
        Folder for ``identity-authority.{key,pub}`` and ``<name>.identity`` files.
    names
        Device names (existing files are kept).

    Returns
    -------
    DeviceIdentities
        The files.
    """
    folder = Path(directory)
    prefix = folder / "identity-authority"
    if not prefix.with_suffix(".key").exists():
        create_authority(prefix)
    authority = load_private_key(prefix.with_suffix(".key"))
    files = {}
    for name in names:
        file = folder / f"{name}.identity"
        if not file.exists():
            provision_identities(file, [name], authority)
        files[name] = file
    return DeviceIdentities(files, prefix.with_suffix(".pub"))
