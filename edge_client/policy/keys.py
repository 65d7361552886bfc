"""Ed25519 keys for policy signing, and trust stores of public keys.

A key id is the first 16 hex characters of the SHA-256 of the raw 32-byte public key.
A trust store is a file or a directory of files holding public keys, each either a PEM
``PUBLIC KEY`` block or a line of raw base64 (optionally preceded by its key id, which is
then checked); ``#`` starts a comment. Private keys are refused in a trust store.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from cryptography.exceptions import InternalError, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from edge_client.decoding import DecodeError, read_bounded
from edge_client.policy.errors import KeyFileError, TrustStoreError

__all__ = [
    "TrustStore",
    "generate_private_key",
    "key_id",
    "load_private_key",
    "public_key_base64",
    "write_keypair",
]

_MAX_KEY_FILE_BYTES = 1024 * 1024
_PEM_BLOCK = re.compile(r"-----BEGIN PUBLIC KEY-----.*?-----END PUBLIC KEY-----", re.DOTALL)


def _raw(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(public_key: Ed25519PublicKey) -> str:
    """Return the short id of ``public_key``.

    Parameters
    ----------
    public_key
        An Ed25519 public key.

    Returns
    -------
    str
        First 16 hex characters of SHA-256 of the raw key.
    """
    return hashlib.sha256(_raw(public_key)).hexdigest()[:16]


def public_key_base64(public_key: Ed25519PublicKey) -> str:
    """Return the raw public key as base64 (a trust-store line without its id).

    Parameters
    ----------
    public_key
        An Ed25519 public key.

    Returns
    -------
    str
        Standard base64 of the 32 raw bytes.
    """
    return base64.b64encode(_raw(public_key)).decode("ascii")


def generate_private_key() -> Ed25519PrivateKey:
    """Return a new Ed25519 signing key.

    Returns
    -------
    Ed25519PrivateKey
        A fresh key from the operating system's random source.
    """
    return Ed25519PrivateKey.generate()


def write_keypair(private_key: Ed25519PrivateKey, prefix: str | Path) -> tuple[Path, Path]:
    """Write ``prefix.key`` (PKCS#8 PEM, mode 0600) and ``prefix.pub`` (PEM).

    Parameters
    ----------
    private_key
        The signing key.
    prefix
        Path without suffix.

    Returns
    -------
    tuple[Path, Path]
        The private and public key paths.

    Raises
    ------
    KeyFileError
        When a file exists already or cannot be written.
    """
    base = Path(prefix)
    private_path = base.with_name(base.name + ".key")
    public_path = base.with_name(base.name + ".pub")
    private_pem = private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public_pem = private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    try:
        # A missing folder is created private to the owner (it will hold a secret key).
        private_path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        descriptor = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(private_pem)
        with public_path.open("xb") as handle:
            handle.write(public_pem)
    except FileExistsError as exc:
        raise KeyFileError(f"{exc.filename}: exists already; refusing to overwrite") from None
    except OSError as exc:
        raise KeyFileError(f"{base}: cannot write key pair ({type(exc).__name__})") from None
    return private_path, public_path


def load_private_key(path: str | Path) -> Ed25519PrivateKey:
    """Read an unencrypted PKCS#8 PEM Ed25519 private key.

    Parameters
    ----------
    path
        The ``.key`` file.

    Returns
    -------
    Ed25519PrivateKey
        The signing key.

    Raises
    ------
    KeyFileError
        When the file is unreadable or not an Ed25519 private key.
    """
    try:
        data = read_bounded(path, max_bytes=_MAX_KEY_FILE_BYTES)
    except DecodeError as exc:
        raise KeyFileError(f"cannot read key: {exc}") from None
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm, InternalError):  # OpenSSL refusals
        raise KeyFileError(f"{path}: not an unencrypted PEM private key") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyFileError(f"{path}: not an Ed25519 private key")
    return key


def _parse_keys(text: str, source: str) -> list[Ed25519PublicKey]:
    if "PRIVATE KEY" in text:
        raise TrustStoreError(f"{source}: holds a private key; a trust store takes public keys")
    keys: list[Ed25519PublicKey] = []
    for block in _PEM_BLOCK.findall(text):
        try:
            key = serialization.load_pem_public_key(block.encode("ascii"))
        except (ValueError, UnsupportedAlgorithm, InternalError):
            raise TrustStoreError(f"{source}: malformed PEM public key") from None
        if not isinstance(key, Ed25519PublicKey):
            raise TrustStoreError(f"{source}: a PEM key is not Ed25519")
        keys.append(key)
    rest = _PEM_BLOCK.sub("", text)
    for number, line in enumerate(rest.splitlines(), start=1):
        tokens = line.split("#", 1)[0].split()
        if not tokens:
            continue
        if len(tokens) > 2:
            raise TrustStoreError(f"{source}:{number}: expected '[key_id] base64'")
        try:
            raw = base64.b64decode(tokens[-1], validate=True)
            key = Ed25519PublicKey.from_public_bytes(raw)
        except (binascii.Error, ValueError):
            raise TrustStoreError(f"{source}:{number}: not a base64 Ed25519 public key") from None
        if len(tokens) == 2 and tokens[0] != key_id(key):
            raise TrustStoreError(f"{source}:{number}: key id does not match the key")
        keys.append(key)
    return keys


@dataclass(frozen=True)
class TrustStore:
    """Public keys a device or the server trusts, by key id.

    Parameters
    ----------
    keys
        Key id to public key.
    """

    keys: Mapping[str, Ed25519PublicKey]

    def __post_init__(self) -> None:
        """Freeze the mapping."""
        object.__setattr__(self, "keys", MappingProxyType(dict(self.keys)))

    @classmethod
    def from_keys(cls, *keys: Ed25519PublicKey) -> TrustStore:
        """Return a trust store of ``keys``.

        Parameters
        ----------
        *keys
            Public keys.

        Returns
        -------
        TrustStore
            The store.
        """
        return cls({key_id(key): key for key in keys})

    @classmethod
    def load(cls, path: str | Path) -> TrustStore:
        """Read a trust store file, or every regular file of a directory.

        Parameters
        ----------
        path
            File or directory (hidden files are skipped).

        Returns
        -------
        TrustStore
            The keys found.

        Raises
        ------
        TrustStoreError
            When nothing is readable, a key is malformed, or no key is found.
        """
        root = Path(path)
        if root.is_dir():
            files = sorted(p for p in root.iterdir() if p.is_file() and not p.name.startswith("."))
        elif root.is_file():
            files = [root]
        else:
            raise TrustStoreError(f"{root}: trust store not found")
        keys: list[Ed25519PublicKey] = []
        for file in files:
            try:
                text = read_bounded(file, max_bytes=_MAX_KEY_FILE_BYTES).decode("ascii")
            except DecodeError as exc:
                raise TrustStoreError(f"cannot read trust store: {exc}") from None
            except UnicodeDecodeError:
                raise TrustStoreError(f"{file}: not ASCII; a trust store holds keys") from None
            keys.extend(_parse_keys(text, str(file)))
        if not keys:
            raise TrustStoreError(f"{root}: no public key found")
        return cls.from_keys(*keys)

    def get(self, identifier: str) -> Ed25519PublicKey | None:
        """Return the key with id ``identifier``, or ``None``.

        Parameters
        ----------
        identifier
            A key id.

        Returns
        -------
        Ed25519PublicKey or None
            The trusted key.
        """
        return self.keys.get(identifier)
