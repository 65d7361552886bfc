"""Reading a device's store on open: recover what verifies, report the rest, never crash.

:func:`read_store` turns every way a store can fail to open (a wrong or unusable key, a
file system error, damaged files, a layout written by a newer version) into an
:class:`~edge_client.device.report.OpenReport` and the last good (or an empty) state.
:func:`read_sections` then decodes the policy, consent and controls sections one by one,
so a damaged section is dropped on its own.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any

from edge_client.device.codecs import decode_consent, decode_controls, decode_policy
from edge_client.device.report import OpenReport
from edge_client.device.sections import FORMAT_VERSION, Section
from edge_client.policy.model import Policy, Purpose
from edge_client.policy.signing import SignedBundle
from edge_client.store.codec import SectionFormatError
from edge_client.store.errors import StoreError
from edge_client.store.lock import StoreLockedError
from edge_client.store.store import EncryptedStore

__all__ = ["StoredSettings", "read_sections", "read_store"]

_log = logging.getLogger(__name__)


def read_store(store: EncryptedStore) -> tuple[dict[str, Any], OpenReport]:
    """Load the newest state that verifies, or an empty one, with a report.

    Parameters
    ----------
    store : EncryptedStore
        The device's store.

    Returns
    -------
    tuple of (dict, OpenReport)
        The state (``{}`` when nothing could be loaded) and what happened. The report is
        not persistent when the store exists but cannot be read with the key in use, or
        was written by a newer version, so that the device never overwrites it.

    Raises
    ------
    StoreLockedError
        When another process holds the store past the lock timeout.
    """
    try:
        result = store.open_or_recover()
    except StoreLockedError:  # in use past the wait: the caller says so, never shows nothing
        raise
    except StoreError as exc:  # wrong or unusable key, unreadable file: keep working in memory
        _log.warning("device store %s cannot be opened: %s", store.path, exc)
        return {}, OpenReport(path=store.path, problems=(str(exc),), persistent=False)
    report = OpenReport(
        path=store.path,
        generation=result.generation,
        source=result.source,
        discarded=result.discarded,
    )
    meta = result.state.get(Section.META.value)
    version = meta.get("format") if isinstance(meta, dict) else None
    if isinstance(version, int) and version > FORMAT_VERSION:
        problem = (
            f"Store {store.path} was written by a newer version (layout {version}; this "
            f"library reads up to {FORMAT_VERSION}); it is left untouched."
        )
        _log.warning("%s", problem)
        return {}, OpenReport(
            path=store.path, discarded=result.discarded, problems=(problem,), persistent=False
        )
    return dict(result.state), report


@dataclass(frozen=True)
class StoredSettings:
    """The policy, consent and controls read from a store.

    Attributes
    ----------
    policy : Policy or None
        The stored policy, ``None`` when absent or unreadable.
    bundle : SignedBundle or None
        Its signed bundle, when one was stored.
    policy_hash : str or None
        The hash recorded with the stored policy (to detect a change of policy).
    granted : frozenset of Purpose
        The purposes the person opted in to.
    paused : bool
        Whether personalization was paused.
    paused_at : float or None
        Since when (POSIX seconds).
    created_at : float or None
        When the store was first written.
    problems : tuple of str
        Sections that could not be read and were dropped.
    """

    policy: Policy | None = None
    bundle: SignedBundle | None = None
    policy_hash: str | None = None
    granted: frozenset[Purpose] = frozenset()
    paused: bool = False
    paused_at: float | None = None
    created_at: float | None = None
    problems: tuple[str, ...] = ()


def read_sections(state: dict[str, Any]) -> StoredSettings:
    """Decode the policy, consent, controls and meta sections of a loaded state.

    Parameters
    ----------
    state : dict
        The loaded state; unreadable sections are removed from it.

    Returns
    -------
    StoredSettings
        What could be read, and a problem line per section that could not.
    """
    problems: list[str] = []
    policy: Policy | None = None
    bundle: SignedBundle | None = None
    granted: frozenset[Purpose] = frozenset()
    paused, paused_at = False, None
    raw_policy = state.get(Section.POLICY.value)
    recorded_hash = raw_policy.get("hash") if isinstance(raw_policy, dict) else None
    if raw_policy is not None:
        try:
            policy, bundle = decode_policy(raw_policy)
        except SectionFormatError as exc:
            problems.append(f"{exc}; the stored policy was dropped.")
            state.pop(Section.POLICY.value)
    if Section.CONSENT.value in state:
        try:
            granted = decode_consent(state[Section.CONSENT.value])
        except SectionFormatError as exc:
            problems.append(f"{exc}; consent was reset (nothing granted).")
            state.pop(Section.CONSENT.value)
    if Section.CONTROLS.value in state:
        try:
            paused, paused_at = decode_controls(state[Section.CONTROLS.value])
        except SectionFormatError as exc:
            problems.append(f"{exc}; personalization is paused to be safe.")
            paused = True
    meta = state.get(Section.META.value)
    created = meta.get("created_at") if isinstance(meta, dict) else None
    created_at = (
        float(created)
        if isinstance(created, int | float)
        and not isinstance(created, bool)
        and math.isfinite(created)
        else None
    )
    return StoredSettings(
        policy=policy,
        bundle=bundle,
        policy_hash=recorded_hash if isinstance(recorded_hash, str) else None,
        granted=granted,
        paused=paused,
        paused_at=paused_at,
        created_at=created_at,
        problems=tuple(problems),
    )
