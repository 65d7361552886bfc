"""Rollout on a device: accept a new signed policy only if it is safe to, else keep the old.

:class:`PolicyGuard` holds the policy in force. :meth:`PolicyGuard.offer` accepts a bundle
only when it is signed by a trusted key, untampered, within its validity window and of a
strictly higher version; an equal version with different content is a tamper signal.
Every refusal raises its own :class:`~edge_client.policy.errors.PolicyRefusedError`
subclass and leaves the policy in force unchanged. The optional state file (JSON holding
the last good bundle) survives restarts; it is re-verified on load.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

from edge_client.decoding import DecodeError, loads_json, read_bounded
from edge_client.policy.errors import (
    DowngradeError,
    PolicyError,
    PolicyRefusedError,
    TamperedPolicyError,
    UnsignedPolicyError,
)
from edge_client.policy.keys import TrustStore
from edge_client.policy.model import Policy
from edge_client.policy.signing import BUNDLE_LIMITS, SignedBundle, verify_bundle

__all__ = ["PolicyGuard"]

_STATE_FORMAT = "edgeprof-policy-state/1"
_STATE_LIMITS = BUNDLE_LIMITS.with_bytes(2 * BUNDLE_LIMITS.max_bytes)


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


class PolicyGuard:
    """The device's gate for new policies and keeper of the policy in force.

    Parameters
    ----------
    trust
        Public keys the device trusts.
    state_path
        JSON file holding the last good bundle; read at start when it exists and written
        on every accepted bundle. ``None`` keeps the state in memory only.
    clock
        Returns the current UTC time (injectable for tests).

    Raises
    ------
    PolicyError
        When the state file exists but cannot be read or no longer verifies (signature,
        key); an expired policy in the state file stays in force.
    """

    def __init__(
        self,
        trust: TrustStore,
        *,
        state_path: str | Path | None = None,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self._trust = trust
        self._state_path = None if state_path is None else Path(state_path)
        self._clock = clock
        self._bundle: SignedBundle | None = None
        self._policy: Policy | None = None
        self.last_refusal: PolicyRefusedError | None = None
        if self._state_path is not None and self._state_path.exists():
            self._load_state(self._state_path)

    def _load_state(self, path: Path) -> None:
        try:
            state = loads_json(
                read_bounded(path, max_bytes=_STATE_LIMITS.max_bytes),
                source=str(path),
                limits=_STATE_LIMITS,
            )
        except DecodeError as exc:
            raise PolicyError(f"cannot read policy state: {exc}") from None
        if not isinstance(state, dict) or state.get("format") != _STATE_FORMAT:
            raise PolicyError(f"{path}: not a policy state file ({_STATE_FORMAT})")
        data = json.dumps(state.get("bundle")).encode("utf-8")
        bundle = SignedBundle.from_bytes(data, source=str(path))
        # The policy in force keeps applying past its expiry: verify at its issue time.
        self._policy = verify_bundle(bundle, self._trust, now=bundle.issued_at, source=str(path))
        self._bundle = bundle

    def _save_state(self, bundle: SignedBundle) -> None:
        if self._state_path is None:
            return
        state = {"format": _STATE_FORMAT, "bundle": json.loads(bundle.to_bytes())}
        temporary = self._state_path.with_name(self._state_path.name + ".tmp")
        try:
            temporary.write_text(
                json.dumps(state, indent=2, sort_keys=True) + "\n", encoding="utf-8"
            )
            temporary.replace(self._state_path)
        except OSError as exc:
            raise PolicyError(
                f"{self._state_path}: cannot write policy state ({type(exc).__name__})"
            ) from None

    @property
    def policy(self) -> Policy | None:
        """Return the policy in force, or ``None`` before the first accepted bundle."""
        return self._policy

    @property
    def bundle(self) -> SignedBundle | None:
        """Return the bundle of the policy in force."""
        return self._bundle

    def offer(self, data: bytes, *, source: str = "<bundle>") -> Policy:
        """Verify a new bundle and put it in force if it is strictly newer.

        Parameters
        ----------
        data
            The bundle file's bytes.
        source
            Name used in messages.

        Returns
        -------
        Policy
            The policy in force afterwards (the new one, or the current one when the
            same bundle is offered again).

        Raises
        ------
        UnsignedPolicyError, TamperedPolicyError, ExpiredPolicyError, UnknownKeyError
            From verification.
        DowngradeError
            When the version is lower than the one in force.
        TamperedPolicyError
            Also when the version equals the one in force but the content differs.
        PolicyValidationError
            When the signed content is not a valid policy.

        Notes
        -----
        Nothing but a :class:`~edge_client.policy.errors.PolicyError` leaves this method: an
        unexpected failure while checking a malformed bundle is refused as tampered.
        """
        try:
            return self._offer(data, source)
        except PolicyRefusedError as exc:
            self.last_refusal = exc
            raise
        except PolicyError:
            raise
        except Exception as exc:  # the boundary: nothing but a policy error leaves offer()
            refusal = TamperedPolicyError(
                f"{source}: malformed bundle ({type(exc).__name__} while checking it)"
            )
            self.last_refusal = refusal
            raise refusal from None

    def _offer(self, data: bytes, source: str) -> Policy:
        if not isinstance(data, bytes | bytearray):
            raise UnsignedPolicyError(f"{source}: a bundle is bytes, got {type(data).__name__}")
        bundle = SignedBundle.from_bytes(bytes(data), source=source)
        policy = verify_bundle(bundle, self._trust, now=self._clock(), source=source)
        current = self._bundle
        if current is not None and self._policy is not None:
            if bundle.version < current.version:
                raise DowngradeError(
                    f"{source}: version {bundle.version} is lower than "
                    f"the version in force ({current.version})"
                )
            if bundle.version == current.version:
                if bundle.policy_bytes != current.policy_bytes:
                    raise TamperedPolicyError(
                        f"{source}: version {bundle.version} is in force with different content"
                    )
                return self._policy
        self._save_state(bundle)
        self._bundle, self._policy = bundle, policy
        self.last_refusal = None
        return policy
