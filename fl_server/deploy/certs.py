"""Certificates and keys of a Flower deployment, made with ``cryptography``.

:func:`make_credentials` writes everything a TLS deployment with SuperNode
authentication needs (Flower 1.41):

* ``ca.pem`` / ``ca.key`` — a local certificate authority (EC P-384, self-signed). Only
  the certificate is distributed: ``flower-supernode --root-certificates`` and the
  ``root-certificates`` entry of a SuperLink connection in ``$FLWR_HOME/config.toml``.
* ``server.pem`` / ``server.key`` — the SuperLink's certificate, signed by the CA, with
  the served addresses as subject alternative names (``127.0.0.1``, ``::1`` and
  ``localhost`` for loopback) and ``serverAuth`` usage; ``flower-superlink
  --ssl-certfile/--ssl-keyfile`` (with ``--ssl-ca-certfile ca.pem``).
* ``supernodes/<name>`` / ``supernodes/<name>.pub`` — one SuperNode authentication key
  pair per node: an EC key on a NIST curve (P-384), the private key in OpenSSH format
  (``flower-supernode --auth-supernode-private-key``, read with
  ``load_ssh_private_key``) and the public key as an OpenSSH line
  (``ecdsa-sha2-nistp384 ...``), which ``flwr supernode register <file>`` sends to a
  SuperLink started with ``--enable-supernode-auth``. Flower 1.41 has no key list file
  any more (``--auth-list-public-keys`` is refused): keys are registered through the
  Control API.

Every file is 0600 in a 0700 folder (:mod:`fl_server.deploy.files`).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from fl_server.deploy.errors import CredentialError
from fl_server.deploy.files import private_dir, write_private

__all__ = [
    "LOOPBACK_HOSTS",
    "Credentials",
    "NodeKey",
    "make_credentials",
    "make_node_key",
    "node_public_key",
    "reissue_server_certificate",
]

LOOPBACK_HOSTS: tuple[str, ...] = ("127.0.0.1", "::1", "localhost")
"""Subject alternative names of a loopback SuperLink certificate."""

_CURVE = ec.SECP384R1()
_ORGANIZATION = "edge-profiler local deployment"


@dataclass(frozen=True)
class NodeKey:
    """One SuperNode's authentication key pair.

    Attributes
    ----------
    name
        The node's name (file stem).
    private_key
        OpenSSH private key (``--auth-supernode-private-key``).
    public_key
        OpenSSH public key line (``flwr supernode register``).
    """

    name: str
    private_key: Path
    public_key: Path


@dataclass(frozen=True)
class Credentials:
    """Paths of a deployment's certificates and keys (see the module docstring).

    Attributes
    ----------
    directory
        The folder holding them.
    ca_certificate, ca_key
        The local CA.
    server_certificate, server_key
        The SuperLink's TLS certificate and key.
    nodes
        SuperNode authentication key pairs.
    """

    directory: Path
    ca_certificate: Path
    ca_key: Path
    server_certificate: Path
    server_key: Path
    nodes: tuple[NodeKey, ...]


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, _ORGANIZATION),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _alt_names(hosts: Sequence[str]) -> list[x509.GeneralName]:
    names: list[x509.GeneralName] = []
    for host in hosts:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    return names


def _ca(valid_days: int) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(_CURVE)
    now = dt.datetime.now(dt.timezone.utc)
    name = _name("edge-profiler local CA")
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=valid_days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .sign(key, hashes.SHA384())
    )
    return key, certificate


def _server(
    ca_key: ec.EllipticCurvePrivateKey,
    ca_certificate: x509.Certificate,
    hosts: Sequence[str],
    valid_days: int,
) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(_CURVE)
    now = dt.datetime.now(dt.timezone.utc)
    authority = x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key())
    certificate = (
        x509.CertificateBuilder()
        .subject_name(_name(hosts[0]))
        .issuer_name(ca_certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=valid_days))
        .add_extension(x509.SubjectAlternativeName(_alt_names(hosts)), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=True,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .add_extension(authority, critical=False)
        .sign(ca_key, hashes.SHA384())
    )
    return key, certificate


def make_node_key(directory: str | Path, name: str, *, overwrite: bool = False) -> NodeKey:
    """Write one SuperNode authentication key pair (EC P-384, OpenSSH formats).

    Parameters
    ----------
    directory
        Folder of the key files (created 0700).
    name
        File stem: ``<name>`` (private) and ``<name>.pub`` (public).
    overwrite
        Replace existing files (key rotation).

    Returns
    -------
    NodeKey
        The two paths.

    Raises
    ------
    CredentialError
        When the name is not a plain file name or a file exists.
    """
    if not name or Path(name).name != name or name.startswith("."):
        raise CredentialError(f"node key: name {name!r} must be a plain file name")
    folder = private_dir(directory)
    key = ec.generate_private_key(_CURVE)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.OpenSSH,
        serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    )
    private_path = write_private(folder / name, private, overwrite=overwrite)
    public_path = write_private(folder / f"{name}.pub", public + b"\n", overwrite=overwrite)
    return NodeKey(name, private_path, public_path)


def node_public_key(path: str | Path) -> ec.EllipticCurvePublicKey:
    """Read a SuperNode public key the way ``flwr supernode register`` does.

    Parameters
    ----------
    path
        The ``.pub`` file.

    Returns
    -------
    EllipticCurvePublicKey
        The key.

    Raises
    ------
    CredentialError
        When the file cannot be read or holds no EC key on a NIST curve.
    """
    file = Path(path)
    try:
        key = serialization.load_ssh_public_key(file.read_bytes())
    except (OSError, ValueError) as exc:
        raise CredentialError(f"{file}: not an OpenSSH public key ({type(exc).__name__})") from None
    if not isinstance(key, ec.EllipticCurvePublicKey) or not key.curve.name.startswith("secp"):
        raise CredentialError(f"{file}: not an EC public key on a NIST curve")
    return key


def reissue_server_certificate(
    directory: str | Path,
    *,
    hosts: Sequence[str] = LOOPBACK_HOSTS,
    valid_days: int = 30,
) -> tuple[Path, Path]:
    """Replace ``server.pem``/``server.key`` with a new pair signed by the folder's CA.

    Rotating the SuperLink's certificate this way needs no change on the SuperNodes or
    the CLI: they trust the CA (``ca.pem``), which stays.

    Parameters
    ----------
    directory
        A folder written by :func:`make_credentials` (``ca.pem`` and ``ca.key``).
    hosts
        Addresses and names of the SuperLink (subject alternative names).
    valid_days
        Validity of the new certificate, at least 1.

    Returns
    -------
    tuple[Path, Path]
        The new certificate and key.

    Raises
    ------
    CredentialError
        When the CA cannot be read or an argument is out of range.
    """
    if valid_days < 1 or not hosts:
        raise CredentialError("server certificate: valid_days >= 1 and a host are needed")
    folder = private_dir(directory)
    try:
        ca_certificate = x509.load_pem_x509_certificate((folder / "ca.pem").read_bytes())
        ca_key = serialization.load_pem_private_key((folder / "ca.key").read_bytes(), None)
    except (OSError, ValueError) as exc:
        raise CredentialError(f"{folder}: cannot read the CA ({type(exc).__name__})") from None
    if not isinstance(ca_key, ec.EllipticCurvePrivateKey):
        raise CredentialError(f"{folder / 'ca.key'}: not an EC private key")
    key, certificate = _server(ca_key, ca_certificate, hosts, valid_days)
    pem = serialization.Encoding.PEM
    return (
        write_private(folder / "server.pem", certificate.public_bytes(pem), overwrite=True),
        write_private(folder / "server.key", _pem_key(key), overwrite=True),
    )


def make_credentials(
    directory: str | Path,
    *,
    nodes: int = 2,
    hosts: Sequence[str] = LOOPBACK_HOSTS,
    valid_days: int = 30,
    overwrite: bool = False,
) -> Credentials:
    """Write a local CA, a SuperLink certificate and SuperNode key pairs.

    Parameters
    ----------
    directory
        Output folder (created 0700; files 0600).
    nodes
        Number of SuperNode key pairs (``supernodes/supernode-<i>``), at least 0.
    hosts
        Addresses and names the SuperLink is reached at (subject alternative names).
    valid_days
        Validity of the CA and the server certificate, at least 1.
    overwrite
        Replace existing files (rotation); otherwise existing files are an error.

    Returns
    -------
    Credentials
        The paths written.

    Raises
    ------
    CredentialError
        When an argument is out of range or a file cannot be written.
    """
    if nodes < 0 or valid_days < 1 or not hosts:
        raise CredentialError("credentials: nodes >= 0, valid_days >= 1 and a host are needed")
    folder = private_dir(directory)
    ca_key, ca_certificate = _ca(valid_days)
    server_key, server_certificate = _server(ca_key, ca_certificate, hosts, valid_days)
    pem = serialization.Encoding.PEM
    paths = {
        "ca.pem": ca_certificate.public_bytes(pem),
        "ca.key": _pem_key(ca_key),
        "server.pem": server_certificate.public_bytes(pem),
        "server.key": _pem_key(server_key),
    }
    for file_name, data in paths.items():
        write_private(folder / file_name, data, overwrite=overwrite)
    keys = tuple(
        make_node_key(folder / "supernodes", f"supernode-{i}", overwrite=overwrite)
        for i in range(nodes)
    )
    return Credentials(
        directory=folder,
        ca_certificate=folder / "ca.pem",
        ca_key=folder / "ca.key",
        server_certificate=folder / "server.pem",
        server_key=folder / "server.key",
        nodes=keys,
    )
