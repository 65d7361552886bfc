"""``edgeprof policy``: keygen, sign, verify, lint, explain, diff and schema.

The lead registers :data:`policy` under the main ``edgeprof`` group. Commands exit with
status 1 on refusal, on lint errors, and (with ``--fail-on-loosening``) when a diff
loosens privacy.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING

import click

from edge_client.decoding import DecodeError, read_bounded
from edge_client.errors import TaxonomyError
from edge_client.policy.canonical import policy_hash
from edge_client.policy.errors import PolicyError
from edge_client.policy.explain import diff_policies, explain_policy, format_changes
from edge_client.policy.keys import (
    TrustStore,
    generate_private_key,
    key_id,
    load_private_key,
    public_key_base64,
    write_keypair,
)
from edge_client.policy.loader import lint_file, load_policy
from edge_client.policy.model import Policy
from edge_client.policy.schema import schema_text
from edge_client.policy.signing import (
    SignedBundle,
    read_bundle_file,
    sign_policy,
    verify_bundle,
)

if TYPE_CHECKING:
    from edge_client.taxonomy import Taxonomy

__all__ = ["policy"]

_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)
_MAX_VALIDITY_DAYS = 3650
"""Longest validity a signed policy may be given (ten years)."""


def _taxonomy(path: Path | None, *, required: bool = False) -> Taxonomy | None:
    from edge_client.taxonomy import load_taxonomy  # only lint/explain need it

    try:
        return load_taxonomy(path)
    except TaxonomyError as exc:
        if required:
            raise click.ClickException(str(exc)) from None
        click.echo(f"warning: taxonomy not loaded, node ids not checked: {exc}", err=True)
        return None


def _read_policy(path: Path) -> Policy:
    """Read a TOML policy or, unverified, the policy inside a signed bundle."""
    try:
        data = read_bundle_file(path)
        if data.lstrip().startswith(b"{"):
            click.echo(
                f"note: {path} is a bundle; its signature is NOT checked here (use 'verify')",
                err=True,
            )
            return SignedBundle.from_bytes(data, source=str(path)).unverified_policy(
                source=str(path)
            )
        return load_policy(path)
    except PolicyError as exc:
        raise click.ClickException(str(exc)) from None


def _utc(text: str | None) -> datetime:
    if text is None:
        return datetime.now(timezone.utc)
    shown = text if len(text) <= 40 else text[:37] + "..."
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=timezone.utc)
        return moment.astimezone(timezone.utc)
    except (ValueError, OverflowError):
        raise click.BadParameter(f"not an ISO 8601 time: {shown!r}") from None


def _write(path: Path, data: bytes) -> None:
    """Write an output file, reporting a missing folder or a refusal as a clean error."""
    try:
        path.write_bytes(data)
    except OSError as exc:
        raise click.ClickException(f"{path}: cannot write ({exc.strerror})") from None


@click.group()
def policy() -> None:
    """Write, check, sign and review privacy policies."""


@policy.command()
@click.option(
    "--out",
    "prefix",
    required=True,
    type=click.Path(path_type=Path),
    help="Path prefix: writes PREFIX.key (private, 0600) and PREFIX.pub.",
)
def keygen(prefix: Path) -> None:
    """Create an Ed25519 signing key pair and print its key id."""
    key = generate_private_key()
    try:
        private_path, public_path = write_keypair(key, prefix)
    except PolicyError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"key id: {key_id(key.public_key())}")
    click.echo(f"private key: {private_path} (keep it secret)")
    click.echo(f"public key: {public_path}")
    click.echo(
        f"trust store line: {key_id(key.public_key())} {public_key_base64(key.public_key())}"
    )


@policy.command()
@click.argument("policy_file", type=_FILE)
@click.option("--key", "key_file", required=True, type=_FILE, help="Private key (PEM).")
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Bundle file to write.",
)
@click.option(
    "--expires-in-days",
    default=90,
    show_default=True,
    type=click.IntRange(min=1, max=_MAX_VALIDITY_DAYS),
    help=f"Validity period (at most {_MAX_VALIDITY_DAYS} days).",
)
@click.option("--issued-at", default=None, help="Issue time, ISO 8601 (default: now).")
@click.option(
    "--taxonomy",
    "taxonomy_file",
    default=None,
    type=_FILE,
    help="Taxonomy JSON to check node ids (default: the packaged one).",
)
def sign(
    *,
    policy_file: Path,
    key_file: Path,
    out: Path,
    expires_in_days: int,
    issued_at: str | None,
    taxonomy_file: Path | None,
) -> None:
    """Lint POLICY_FILE (epsilon included) and sign it into a bundle."""
    result = lint_file(policy_file, taxonomy=_taxonomy(taxonomy_file))
    for problem in result.problems:
        click.echo(str(problem), err=True)
    if result.policy is None:
        raise click.ClickException("not signed: the policy has errors")
    start = _utc(issued_at)
    try:
        expires = start + timedelta(days=expires_in_days)
    except OverflowError:
        raise click.BadParameter(
            "issued-at plus expires-in-days is past the year 9999", param_hint="'--issued-at'"
        ) from None
    if not out.parent.is_dir():
        raise click.ClickException(f"{out}: folder {out.parent} does not exist")
    try:
        key = load_private_key(key_file)
        bundle = sign_policy(result.policy, key, issued_at=start, expires_at=expires)
    except PolicyError as exc:
        raise click.ClickException(str(exc)) from None
    _write(out, bundle.to_bytes())
    click.echo(
        f"signed {result.policy.name!r} v{bundle.version} with key {bundle.key_id}; "
        f"sha256 {bundle.policy_sha256}; expires {bundle.header()['expires_at']}"
    )
    click.echo(f"wrote {out}")


@policy.command()
@click.argument("bundle_file", type=_FILE)
@click.option(
    "--trust",
    "trust_path",
    required=True,
    type=click.Path(exists=True, path_type=Path),
    help="Trust store: a file or directory of public keys.",
)
@click.option("--at", "at", default=None, help="Check validity at this ISO 8601 time.")
def verify(bundle_file: Path, trust_path: Path, at: str | None) -> None:
    """Verify a signed bundle against a trust store."""
    try:
        bundle = SignedBundle.from_bytes(read_bundle_file(bundle_file), source=str(bundle_file))
        checked = verify_bundle(
            bundle, TrustStore.load(trust_path), now=_utc(at), source=str(bundle_file)
        )
    except PolicyError as exc:
        raise click.ClickException(f"refused ({type(exc).__name__}): {exc}") from None
    click.echo(
        f"ok: {checked.name!r} v{checked.version}, key {bundle.key_id}, "
        f"sha256 {policy_hash(checked)}, expires {bundle.header()['expires_at']}"
    )


@policy.command()
@click.argument("files", nargs=-1, required=True, type=_FILE)
@click.option("--no-epsilon", is_flag=True, help="Skip the accountant check.")
@click.option(
    "--taxonomy",
    "taxonomy_file",
    default=None,
    type=_FILE,
    help="Taxonomy JSON to check node ids (default: the packaged one).",
)
def lint(files: tuple[Path, ...], no_epsilon: bool, taxonomy_file: Path | None) -> None:
    """Check policy files; list every problem with file, line and field."""
    taxonomy = _taxonomy(taxonomy_file)
    failed = False
    for file in files:
        result = lint_file(file, epsilon=not no_epsilon, taxonomy=taxonomy)
        for problem in result.problems:
            click.echo(str(problem))
        errors = sum(1 for p in result.problems if p.is_error)
        warnings = len(result.problems) - errors
        click.echo(
            f"{file}: {'ok' if result.ok else 'FAILED'} ({errors} error(s), {warnings} warning(s))"
        )
        failed = failed or not result.ok
    if failed:
        raise click.exceptions.Exit(1)


@policy.command()
@click.argument("file", type=_FILE)
@click.option(
    "--taxonomy",
    "taxonomy_file",
    default=None,
    type=_FILE,
    help="Taxonomy JSON for node labels (default: the packaged one).",
)
def explain(file: Path, taxonomy_file: Path | None) -> None:
    """Say in plain words what a policy allows and forbids."""
    click.echo(explain_policy(_read_policy(file), _taxonomy(taxonomy_file)))


@policy.command()
@click.argument("old", type=_FILE)
@click.argument("new", type=_FILE)
@click.option(
    "--fail-on-loosening", is_flag=True, help="Exit with status 1 when any change loosens privacy."
)
def diff(old: Path, new: Path, fail_on_loosening: bool) -> None:
    """List what changed from OLD to NEW, flagging every loosening of privacy."""
    changes = diff_policies(_read_policy(old), _read_policy(new))
    click.echo(format_changes(changes))
    if fail_on_loosening and any(c.loosens for c in changes):
        raise click.exceptions.Exit(1)


@policy.command()
@click.option(
    "--out",
    default=None,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the schema here instead of printing it.",
)
@click.option(
    "--check",
    "check_file",
    default=None,
    type=_FILE,
    help="Exit with status 1 unless this file equals the generated schema.",
)
def schema(out: Path | None, check_file: Path | None) -> None:
    """Print, write or check the policy JSON Schema."""
    text = schema_text()
    if check_file is not None:
        try:
            current = read_bounded(check_file, max_bytes=4 * len(text.encode()) + 1024)
        except DecodeError as exc:
            raise click.ClickException(f"{check_file} is out of date ({exc.problem})") from None
        if current != text.encode("utf-8"):
            raise click.ClickException(
                f"{check_file} is out of date; run 'edgeprof policy schema --out' to regenerate it"
            )
        click.echo(f"{check_file}: up to date")
    elif out is not None:
        _write(out, text.encode("utf-8"))
        click.echo(f"wrote {out}")
    else:
        click.echo(text, nl=False)
