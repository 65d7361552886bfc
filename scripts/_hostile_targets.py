"""Every decoder and CLI entry that reads outside input, with valid companions to run them.

A :class:`Fixture` is a folder of valid companion files (a profile, a policy, signing keys,
a trust store, a signed bundle, a store and its key, a text file). Each :class:`Kind` says
how to write one input of its kind into a fresh folder (:meth:`Kind.place`), which
decoder reads it in-process (:attr:`Kind.decode`), and which ``edgeprof`` command lines read
it (:attr:`Kind.commands`). Special files (a FIFO, a symbolic link to ``/dev/zero``, a
directory, a sparse 10 GB file) can take any kind's place. Used by ``tests/fuzz`` and
``scripts/hardening_report.py``; not a public API.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import msgpack

__all__ = [
    "KINDS",
    "SIGN_OPTIONS",
    "SPECIAL_FILES",
    "Fixture",
    "Kind",
    "named_cases",
    "place_special",
]

NOW = datetime(2025, 6, 1, tzinfo=timezone.utc)
STORE_KEY = bytes(range(32))
SPECIAL_FILES = ("fifo", "dev_zero_link", "directory", "sparse_10gb")


@dataclass(frozen=True)
class Fixture:
    """Valid companion files in ``root`` (see the module docstring)."""

    root: Path

    @classmethod
    def build(cls, root: Path) -> Fixture:
        """Create the companion files under ``root`` and return the fixture."""
        from edge_client.device import DataSection, Device
        from edge_client.policy import Preset, Purpose, load_preset, preset_path, sign_policy
        from edge_client.policy.keys import generate_private_key, write_keypair

        root.mkdir(parents=True, exist_ok=True)
        key = generate_private_key()
        write_keypair(key, root / "signing")
        policy = load_preset(Preset.DEFAULT)
        bundle = sign_policy(policy, key, issued_at=NOW, expires_at=NOW + timedelta(days=365))
        (root / "bundle.json").write_bytes(bundle.to_bytes())
        (root / "policy.toml").write_bytes(preset_path(Preset.DEFAULT).read_bytes())
        text = "I compared the battery life and the price of both phones before buying. " * 8
        (root / "text.txt").write_text(text, encoding="utf-8")
        device = Device(root / "store")
        device.grant(Purpose.PROFILING)
        device.observe(text)
        device.append_records(DataSection.FEEDBACK, [{"item": "a1", "engaged": True}])
        from edge_client.profiler import EdgeProfiler

        profiler = EdgeProfiler(consent=[Purpose.PROFILING])
        profiler.observe(text)
        (root / "profile.json").write_text(json.dumps(profiler.profile().to_dict()))
        return cls(root)

    @property
    def trust(self) -> Path:
        """The trust store holding the signing key's public half."""
        return self.root / "signing.pub"


def _seed_file(*parts: str) -> Callable[[Fixture], list[bytes]]:
    def seeds(fixture: Fixture) -> list[bytes]:
        return [(fixture.root.joinpath(*parts)).read_bytes()]

    return seeds


def _asset(*parts: str) -> Callable[[Fixture], list[bytes]]:
    def seeds(fixture: Fixture) -> list[bytes]:
        del fixture
        from importlib import resources

        return [resources.files("edge_client").joinpath("assets", *parts).read_bytes()]

    return seeds


def _store_seeds(fixture: Fixture) -> list[bytes]:
    from edge_client.store import EncryptedStore

    state = EncryptedStore(fixture.root / "store" / "store.bin").load()
    return [bytes(msgpack.packb({"generation": 1, "sections": state}, use_bin_type=True))]


def _model_bundle_seeds(fixture: Fixture) -> list[bytes]:
    del fixture
    import numpy as np

    from edge_client.federated.bundle import bundle_payload

    payload = bundle_payload(
        model="style",
        version=1,
        weights={"w": np.ones((4, 1), np.float32), "b": np.zeros(1, np.float32)},
        metrics={"loss": 0.5},
        policy_hash="a" * 64,
    )
    return [payload]


def _checkpoint_seeds(fixture: Fixture) -> list[bytes]:
    del fixture
    doc = {
        "policy_hash": "h",
        "model": "style",
        "completed_round": 1,
        "weights": [["w", [2], b"\0" * 8]],
        "ledger": [[1, 10, 0.5, 0.02, 1.0, 1]],
        "participations": [[1, 1]],
        "history": json.dumps([{"round": 1, "status": "aggregated"}]),
        "rng_state": "",
    }
    return [bytes(msgpack.packb(doc, use_bin_type=True))]


# --- placing an input -----------------------------------------------------------------


def _as_file(name: str) -> Callable[[Fixture, bytes, Path], Path]:
    def place(fixture: Fixture, data: bytes, folder: Path) -> Path:
        del fixture
        path = folder / name
        path.write_bytes(data)
        return path

    return place


def _as_store(fixture: Fixture, payload: bytes, folder: Path) -> Path:
    """Seal ``payload`` as a store generation (its plaintext is the hostile part)."""
    import secrets

    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    from edge_client.store.format import _HEADER, FORMAT_VERSION, MAGIC
    from edge_client.store.keys import key_fingerprint

    del fixture
    data = folder / "store"
    data.mkdir()
    nonce = secrets.token_bytes(12)
    header = _HEADER.pack(MAGIC, FORMAT_VERSION, bytes.fromhex(key_fingerprint(STORE_KEY)), nonce)
    (data / "store.bin").write_bytes(header + AESGCM(STORE_KEY).encrypt(nonce, payload, header))
    key = data / "store.bin.key"
    key.write_bytes(b"EPK1" + STORE_KEY)
    key.chmod(0o600)
    return data


def _as_store_key(fixture: Fixture, data: bytes, folder: Path) -> Path:
    """A copy of the fixture's store with ``data`` as its key file."""
    import shutil

    store = folder / "store"
    shutil.copytree(fixture.root / "store", store)
    key = store / "store.bin.key"
    key.write_bytes(data)
    key.chmod(0o600)
    return store


def place_special(kind: Kind, special: str, fixture: Fixture, folder: Path) -> Path:
    """Place a special file (FIFO, /dev/zero link, directory, sparse 10 GB) as ``kind``."""
    target = kind.place(fixture, kind.seeds(fixture)[0], folder)
    victim = target / kind.victim if kind.victim else target
    if victim.is_dir():
        import shutil

        shutil.rmtree(victim)
    else:
        victim.unlink()
    if special == "fifo":
        os.mkfifo(victim, 0o600)
    elif special == "dev_zero_link":
        victim.symlink_to("/dev/zero")
    elif special == "directory":
        victim.mkdir()
    else:
        with victim.open("wb") as handle:
            handle.truncate(10**10)
        victim.chmod(0o600)
    return target


# --- decoders -------------------------------------------------------------------------


def _decode_jsonl(fixture: Fixture, path: Path) -> object:
    from edge_client.errors import InputError
    from edge_client.inputs import LineError, iter_jsonl

    records = list(iter_jsonl(str(path)))
    bad = [r for r in records if isinstance(r, LineError)]
    if bad:  # each bad line is a clean, located record; count the file as refused
        raise InputError(bad[0].message)
    return records


def _decode_text(fixture: Fixture, path: Path) -> object:
    from edge_client.inputs import read_text_file

    return read_text_file(str(path))


def _decode_catalog(fixture: Fixture, path: Path) -> object:
    from edge_client.selection import load_catalog

    return load_catalog(path)


def _decode_profile(fixture: Fixture, path: Path) -> object:
    from edge_client.inputs import read_json_file
    from edge_client.profile import Profile

    return Profile.from_dict(read_json_file(str(path))).describe()


def _decode_policy(fixture: Fixture, path: Path) -> object:
    from edge_client.policy import load_policy
    from edge_client.policy.loader import lint_file

    lint_file(path, epsilon=True)
    return load_policy(path)


def _decode_bundle(fixture: Fixture, path: Path) -> object:
    from edge_client.policy import PolicyGuard, TrustStore
    from edge_client.policy.signing import read_bundle_file

    guard = PolicyGuard(TrustStore.load(fixture.trust), clock=lambda: NOW + timedelta(days=1))
    return guard.offer(read_bundle_file(path))


def _decode_trust(fixture: Fixture, path: Path) -> object:
    from edge_client.policy import TrustStore

    return TrustStore.load(path)


def _decode_private_key(fixture: Fixture, path: Path) -> object:
    from edge_client.policy.keys import load_private_key

    return load_private_key(path)


def _decode_model_bundle(fixture: Fixture, path: Path) -> object:
    """The payload is the hostile part: it is signed by a trusted key."""
    from edge_client.federated.bundle import DOMAIN, verify_model_bundle
    from edge_client.policy import TrustStore, key_id
    from edge_client.policy.keys import load_private_key

    key = load_private_key(fixture.root / "signing.key")
    payload = path.read_bytes()  # bundles arrive as bytes: no file of the project's to read
    outer = {
        "payload": payload,
        "key_id": key_id(key.public_key()),
        "signature": key.sign(DOMAIN + payload),
    }
    data = bytes(msgpack.packb(outer, use_bin_type=True))
    return verify_model_bundle(data, TrustStore.load(fixture.trust), policy_hash="a" * 64)


def _decode_store(fixture: Fixture, path: Path) -> object:
    from edge_client.device import Device
    from edge_client.store import StoreError

    device = Device(path, read_only=True)
    result = (device.profile().describe(), json.dumps(device.export(), allow_nan=False))
    if not device.report.ok:  # opened, but it said what it could not read: a clean refusal
        raise StoreError(device.report.describe())
    return result


def _decode_checkpoint(fixture: Fixture, path: Path) -> object:
    from fl_server.checkpoint import CheckpointStore

    return CheckpointStore(path).load(policy_hash="h", model="style")


def _decode_taxonomy(fixture: Fixture, path: Path) -> object:
    from edge_client.taxonomy import load_taxonomy

    return load_taxonomy(path)


# --- the kinds ------------------------------------------------------------------------

Command = Callable[[Fixture, Path], list[str]]


@dataclass(frozen=True)
class Kind:
    """One kind of outside input (see the module docstring)."""

    name: str
    format: str
    seeds: Callable[[Fixture], list[bytes]]
    place: Callable[[Fixture, bytes, Path], Path]
    decode: Callable[[Fixture, Path], object] | None
    commands: tuple[Command, ...] = ()
    named: dict[str, bytes] = field(default_factory=dict)
    victim: str = ""
    from_file: bool = True  # False: the project takes the input as bytes, never as a file

    def __repr__(self) -> str:
        """Name the kind only (its named inputs are megabytes)."""
        return f"Kind({self.name!r})"


def _cmd(*args: str) -> Command:
    def build(fixture: Fixture, path: Path) -> list[str]:
        root = str(fixture.root)
        return [a.replace("{in}", str(path)).replace("{fx}", root) for a in args]

    return build


GOOD_LINE = b'{"text": "I compared both phones carefully before buying one."}'


def _policy_named() -> dict[str, bytes]:
    from edge_client.policy import Preset, preset_path

    text = preset_path(Preset.DEFAULT).read_bytes()

    def edit(key: bytes, value: bytes) -> bytes:
        lines = text.split(b"\n")
        out = [key + b" = " + value if line.startswith(key + b" = ") else line for line in lines]
        return b"\n".join(out)

    return {
        "ttl_1e9_days": edit(b"profile_ttl_days", b"1000000000"),
        "noise_1e-300": edit(b"noise_multiplier", b"1e-300"),
        "noise_1.7e308": edit(b"noise_multiplier", b"1.7e308"),
        "version_400_digits": edit(b"version", b"9" * 400),
        "version_5000_digits": edit(b"version", b"9" * 5000),
        "float_1e400": edit(b"clipping_norm", b"1e400"),
        "non_utf8": text.replace(b"Balanced", b"Bal\xe9nced"),
        "deep_array": text + b"\nx = " + b"[" * 5000 + b"]" * 5000,
        "dotted_key_16000_parts": b"a" + b".a" * 16000 + b" = 1\n" + text,
        "surrogate_escape": edit(b"name", b'"\\ud800"'),
    }


KINDS: tuple[Kind, ...] = (
    Kind(
        "jsonl",
        "jsonl",
        lambda fx: [b"\n".join([GOOD_LINE, b'{"id": 7, "text": "second line"}', GOOD_LINE])],
        _as_file("in.jsonl"),
        _decode_jsonl,
        (_cmd("profile", "--jsonl", "{in}"),),
        {
            "deep_line_between_good_lines": GOOD_LINE
            + b'\n{"text":'
            + b"[" * 100_000
            + b"]" * 100_000
            + b"}\n"
            + GOOD_LINE,
            "int_5000_digits": b'{"text": "a", "id": ' + b"9" * 5000 + b"}",
            "float_1e400": b'{"text": "a", "id": 1e400}',
            "surrogate_id": b'{"text": "a", "id": "\\udc00"}',
            "u2028_inside_text": '{"text": "one\u2028two"}'.encode(),
        },
    ),
    Kind(
        "text",
        "text",
        _seed_file("text.txt"),
        _as_file("in.txt"),
        _decode_text,
        (_cmd("profile", "{in}"), _cmd("store", "--dir", "{in}.store", "observe", "{in}")),
        {"nul_bytes": b"abc\x00def", "latin1": "caf\u00e9".encode("latin-1")},
    ),
    Kind(
        "catalog",
        "jsonl",
        _asset("samples", "catalog.jsonl"),
        _as_file("catalog.jsonl"),
        _decode_catalog,
        (_cmd("select", "--catalog", "{in}", "--profile", "{fx}/profile.json", "-k", "3"),),
        {
            "u2028_in_title": (
                '{"id": "a1", "categories": ["1"], "variants": {"analytical": '
                '{"title": "x\u2028y"}, "emotional": {"title": "z"}}}'
            ).encode(),
            "popularity_1e400": b'{"id": "a1", "categories": ["1"], "popularity": 1e400}',
            "deep": b'{"id": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
            "surrogate_id": b'{"id": "\\ud800"}',
        },
    ),
    Kind(
        "profile_json",
        "json",
        _seed_file("profile.json"),
        _as_file("profile.json"),
        _decode_profile,
        (_cmd("select", "--profile", "{in}", "-k", "3"),),
        {
            "words_1e400": b'{"words": 1e400}',
            "words_400_digits": b'{"words": ' + b"9" * 400 + b"}",
            "deep": b"[" * 100_000 + b"]" * 100_000,
        },
    ),
    Kind(
        "policy_toml",
        "text",
        _seed_file("policy.toml"),
        _as_file("policy.toml"),
        _decode_policy,
        (
            _cmd("policy", "lint", "{in}"),
            _cmd("policy", "explain", "{in}"),
            _cmd("policy", "sign", "{in}", "--key", "{fx}/signing.key", "--out", "{in}.bundle"),
        ),
    ),
    Kind(
        "policy_bundle",
        "json",
        _seed_file("bundle.json"),
        _as_file("bundle.json"),
        _decode_bundle,
        (
            _cmd("policy", "verify", "{in}", "--trust", "{fx}/signing.pub", "--at", "2025-06-02"),
            _cmd("policy", "explain", "{in}"),
        ),
        {
            "deep": b"[" * 100_000,
            "version_1e400": b'{"format": "edgeprof-policy-bundle/1", '
            b'"signature": "x", "header": {"version": 1e400}}',
        },
    ),
    Kind(
        "trust_store",
        "text",
        _seed_file("signing.pub"),
        _as_file("trust.pub"),
        _decode_trust,
        (_cmd("policy", "verify", "{fx}/bundle.json", "--trust", "{in}", "--at", "2025-06-02"),),
    ),
    Kind(
        "private_key",
        "text",
        _seed_file("signing.key"),
        _as_file("signing.key"),
        _decode_private_key,
        (_cmd("policy", "sign", "{fx}/policy.toml", "--key", "{in}", "--out", "{in}.bundle"),),
    ),
    Kind(
        "model_bundle_payload",
        "msgpack",
        _model_bundle_seeds,
        _as_file("payload.msgpack"),
        _decode_model_bundle,
        from_file=False,
    ),
    Kind(
        "store_payload",
        "msgpack",
        _store_seeds,
        _as_store,
        _decode_store,
        (
            _cmd("store", "--dir", "{in}", "show"),
            _cmd("store", "--dir", "{in}", "export"),
            _cmd("store", "--dir", "{in}", "observe", "{fx}/text.txt"),
        ),
        victim="store.bin",
    ),
    Kind(
        "store_key",
        "text",
        lambda fx: [(fx.root / "store" / "store.bin.key").read_bytes()],
        _as_store_key,
        _decode_store,
        (_cmd("store", "--dir", "{in}", "show"),),
        victim="store.bin.key",
    ),
    Kind(
        "checkpoint",
        "msgpack",
        _checkpoint_seeds,
        _as_file("checkpoint.msgpack"),
        _decode_checkpoint,
    ),
    Kind(
        "taxonomy",
        "json",
        _asset("taxonomy.json"),
        _as_file("taxonomy.json"),
        _decode_taxonomy,
        (_cmd("policy", "lint", "{fx}/policy.toml", "--taxonomy", "{in}"),),
        {"deep": b"[" * 100_000},
    ),
)
"""Every kind of outside input, its decoder and the commands that read it."""

SIGN_OPTIONS: tuple[tuple[str, Sequence[str]], ...] = (
    ("issued_at_9999", ("--issued-at", "9999-12-31T00:00:00")),
    ("issued_at_year_1", ("--issued-at", "0001-01-01")),
    ("issued_at_garbage", ("--issued-at", "\u2028not a time")),
    ("expires_in_1e11_days", ("--expires-in-days", "99999999999")),
    ("out_in_missing_folder", ("--out", "/nonexistent-folder/x/bundle.json")),
)
"""Absurd options of ``policy sign`` the issue named (run against the valid policy)."""


def named_cases(kind: Kind) -> dict[str, bytes]:
    """Return the inputs of ``kind`` the issue named (policy ones built from the preset)."""
    return {**kind.named, **(_policy_named() if kind.name == "policy_toml" else {})}
