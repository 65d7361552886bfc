"""``Device``: one person's profiler and everything it keeps, in one encrypted store.

A :class:`Device` owns an :class:`~edge_client.store.EncryptedStore` and an
:class:`~edge_client.profiler.EdgeProfiler`. Opening it loads the store (recovering the
last good state or starting empty, never crashing), applies the policy's retention and
decay, and restores the profile counts; every change (new text, consent, pause/resume,
a new policy, cap counters, feedback, training examples) is saved atomically. Only counts
and plain identifiers are kept, never the person's text.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

from edge_client.behaviour.events import BehaviourEvent
from edge_client.behaviour.recorder import RecordResult, check_event
from edge_client.device.codecs import (
    encode_consent,
    encode_controls,
    encode_policy,
    to_json_document,
)
from edge_client.device.controls import UserControlsMixin
from edge_client.device.errors import DeviceError
from edge_client.device.kept import KeptData
from edge_client.device.opening import read_sections, read_store
from edge_client.device.records import DataSectionsMixin
from edge_client.device.report import OpenReport
from edge_client.device.retention import apply_retention
from edge_client.device.sections import (
    FORMAT_VERSION,
    Clock,
    Section,
    timestamp,
    utc_now,
)
from edge_client.explain import Explanation
from edge_client.policy.canonical import policy_hash
from edge_client.policy.engine import PolicyEngine
from edge_client.policy.model import DeviceAuditEvent, Policy, Purpose, Signal, StoredItem
from edge_client.policy.presets import Preset, load_preset
from edge_client.policy.signing import SignedBundle
from edge_client.profile import Profile
from edge_client.profiler import EdgeProfiler
from edge_client.store.keys import KeyProvider
from edge_client.store.lock import DEFAULT_LOCK_TIMEOUT
from edge_client.store.store import DEFAULT_MAX_STORE_BYTES, EncryptedStore
from edge_client.taxonomy import Taxonomy

__all__ = ["DEFAULT_STORE_NAME", "PAUSED_NOTE", "Device"]

_log = logging.getLogger(__name__)

DEFAULT_STORE_NAME = "store.bin"
"""File name of the store inside the data directory (the key is ``store.bin.key``)."""

PAUSED_NOTE = "Personalization is paused: nothing is profiled and nothing is personalized."
"""Note added to the profile while personalization is paused."""


class Device(UserControlsMixin, DataSectionsMixin):
    """The app-facing state of one person's device: profile, consent, controls, store.

    Parameters
    ----------
    data_dir : pathlib.Path or str
        The app's data directory; the store is ``<data_dir>/store.bin``.
    key_provider : KeyProvider, optional
        Where the store key comes from (default: a 0600 key file ``store.bin.key`` next to
        the store, created on first save).
    policy : Policy, optional
        The policy in force. Default: the policy saved in the store, else the ``default``
        preset. A policy differing from the stored one replaces it (audited).
    bundle : SignedBundle, optional
        The signed bundle ``policy`` came in (already verified by the app, e.g. with
        :class:`~edge_client.policy.PolicyGuard`); kept with it.
    model_dir : pathlib.Path, optional
        Model directory passed to :class:`EdgeProfiler`.
    taxonomy : Taxonomy, optional
        Interest taxonomy passed to :class:`EdgeProfiler`.
    clock : callable returning an aware datetime, optional
        Where time comes from (default: UTC now); retention and decay use it.
    read_only : bool
        Open without ever writing (``store show``/``export``, a read-only directory):
        retention is applied to what is shown, not saved; every change raises.
    lock_timeout : float
        Seconds to wait while another process changes the store before
        :class:`~edge_client.store.lock.StoreLockedError`.
    max_store_bytes : int
        Largest store file read; a larger one is refused unread (the device then runs in
        memory only and says so in :attr:`report`).

    Raises
    ------
    DeviceError
        When ``bundle`` is given without the policy it carries.

    Notes
    -----
    Opening never fails on a damaged store or a wrong key: :attr:`report` says what
    happened. With a key that cannot read the store the device works in memory only and
    saves nothing (``report.persistent`` is ``False``) until :meth:`forget`. A save the
    file system refuses raises :class:`~edge_client.store.StoreError`. Any number of
    processes and ``Device`` objects may use one data directory: every change is a
    transaction under the store's operating-system lock that first catches up with what
    the others saved, so no saved change is lost.
    """

    def __init__(
        self,
        data_dir: Path | str,
        *,
        key_provider: KeyProvider | None = None,
        policy: Policy | None = None,
        bundle: SignedBundle | None = None,
        model_dir: Path | None = None,
        taxonomy: Taxonomy | None = None,
        clock: Clock | None = None,
        read_only: bool = False,
        lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
        max_store_bytes: int = DEFAULT_MAX_STORE_BYTES,
    ) -> None:
        if bundle is not None and (policy is None or bundle.policy_sha256 != policy_hash(policy)):
            raise DeviceError("bundle: must be given together with the policy it carries")
        self._clock: Clock = clock if clock is not None else utc_now
        self._read_only = read_only
        self._store = EncryptedStore(
            Path(data_dir) / DEFAULT_STORE_NAME,
            key_provider=key_provider,
            read_only=read_only,
            lock_timeout=lock_timeout,
            max_bytes=max_store_bytes,
        )
        self._model_dir, self._taxonomy = model_dir, taxonomy
        self._opened = False  # _load keeps the policy in force on a reload with none stored
        holding = not read_only and self._store.exists()
        # Open and the retention save are one transaction: nothing saved in between is lost.
        with self._store.lock.hold(exclusive=True) if holding else contextlib.nullcontext():
            generation = self._load(policy, bundle)
            if generation and not read_only:
                self._save(flush_previous=self._flush_on_open)
        _log.info("device opened: generation %d, persistent %s", generation, self._persistent)

    def _load(self, policy: Policy | None, bundle: SignedBundle | None) -> int:
        """(Re)load everything from the store; return the generation loaded."""
        now = self._now()
        state, report = read_store(self._store)
        stored = read_sections(state)
        in_force = policy if policy is not None else stored.policy
        if in_force is None:  # nothing stored: the preset on open, the current one on reload
            in_force = self.policy if self._opened else load_preset(Preset.DEFAULT)
        self._bundle = bundle if policy is not None else stored.bundle
        self._paused: bool = stored.paused
        self._paused_at: float | None = stored.paused_at
        self._granted = stored.granted & in_force.consent.allowed_purposes
        if self._opened and policy_hash(in_force) == policy_hash(self.policy):
            self._sync_consent()  # keep the profiler object: selectors may hold it
        else:
            self._profiler = self._new_profiler(in_force)
        self._opened = True
        self._created_at = stored.created_at if stored.created_at is not None else now
        self._persistent = report.persistent
        self._kept = KeptData()
        kept, retention = apply_retention(state, self.engine, now=now)
        dropped = [*stored.problems, *self._kept.restore(kept, self._profiler)]
        self._report = replace(report, problems=(*report.problems, *dropped), retention=retention)
        self._flush_on_open = bool(dropped) or retention.removed_anything
        if stored.policy_hash != policy_hash(in_force):
            action = "policy_installed" if stored.policy_hash is None else "policy_replaced"
            self._audit(DeviceAuditEvent.POLICY_CHANGES, action, at=now)
        return report.generation

    @contextlib.contextmanager
    def _change(self) -> Iterator[None]:
        """Run one change as a transaction: lock, catch up with the store, change, save.

        Under the store's exclusive lock the device first reloads whatever another
        process (or another ``Device`` on the same directory) saved since this one last
        read or wrote, so the change applies to the newest state and no save is lost.

        Raises
        ------
        DeviceError
            When the device was opened read-only.
        StoreLockedError
            When another process holds the store past the lock timeout.
        """
        if self._read_only:
            raise DeviceError(f"store {self.path}: opened read-only; nothing can be changed")
        if not self._persistent:  # memory only: nothing on disk to catch up with
            yield
            return
        with self._store.transaction() as on_disk:
            if on_disk != self._store.generation:
                self._load(None, None)
            yield

    # --- what the device is ------------------------------------------------------------
    @property
    def path(self) -> Path:
        """The store file."""
        return self._store.path

    @property
    def store(self) -> EncryptedStore:
        """The encrypted store."""
        return self._store

    @property
    def report(self) -> OpenReport:
        """What opening the store found (recovery, problems, retention)."""
        return self._report

    @property
    def persistent(self) -> bool:
        """Whether changes are saved (``False`` while the store could not be read)."""
        return self._persistent

    @property
    def profiler(self) -> EdgeProfiler:
        """The profiler (prefer :meth:`observe` and :meth:`profile`, which also save)."""
        return self._profiler

    @property
    def policy(self) -> Policy:
        """The policy in force."""
        return self._profiler.policy

    @property
    def bundle(self) -> SignedBundle | None:
        """The signed bundle of the policy in force, when the app gave one."""
        return self._bundle

    @property
    def engine(self) -> PolicyEngine:
        """The policy engine."""
        return self._profiler.engine

    # --- profiling ---------------------------------------------------------------------
    def observe(self, text: str, *, signal: Signal = Signal.POST_TEXT) -> bool:
        """Profile one text and save the counts (never the text).

        Parameters
        ----------
        text : str
            The person's own words.
        signal : Signal, default Signal.POST_TEXT
            Where the text comes from.

        Returns
        -------
        bool
            ``False`` when personalization is paused: nothing was recorded.

        Raises
        ------
        ConsentError, PolicyError, InputError
            As :meth:`EdgeProfiler.observe`; nothing is recorded.
        """
        return self.observe_many((text,), signal=signal) == 1

    def observe_many(self, texts: Iterable[str], *, signal: Signal = Signal.POST_TEXT) -> int:
        """Profile several texts, then save once; return how many were recorded."""
        batch = list(texts)
        with self._change():
            if self._paused:
                _log.debug("observe skipped: personalization is paused")
                return 0
            now = self._now()
            self._kept.decay_to(self._profiler, self.engine, now=now)
            recorded = 0
            try:
                for text in batch:
                    self._profiler.observe(text, signal=signal)
                    recorded += 1
            finally:
                if recorded:
                    self._kept.mark_observed(now)
                    self._save()
            return recorded

    def record(self, event: BehaviourEvent) -> RecordResult:
        """Count one behaviour event (see :meth:`EdgeProfiler.record`) and save the counts.

        Only decayed counts are kept (in the profile section, with its retention and
        decay), never the event. While personalization is paused nothing is recorded.

        Raises
        ------
        ConsentError, ForbiddenSignalError, BehaviourError, ArgumentError
            As :meth:`EdgeProfiler.record`; nothing is recorded.
        """
        event = check_event(event)
        with self._change():
            if self._paused:
                _log.debug("record skipped: personalization is paused")
                return RecordResult(event.kind, stored=False)
            now = self._now()
            self._kept.decay_to(self._profiler, self.engine, now=now)
            result = self._profiler.record(event)
            if result.stored:
                self._kept.mark_observed(now)
                self._save()
            return result

    def profile(self) -> Profile:
        """Return the current profile; while paused, nothing in it is usable."""
        result = self._profiler.profile()
        if self._paused:
            return replace(result, usable=frozenset(), notes=(*result.notes, PAUSED_NOTE))
        return result

    def explain(self, *, top: int = 8) -> Explanation:
        """Say which signals drove the current profile (see :meth:`EdgeProfiler.explain`)."""
        return self._profiler.explain(top=top)

    # --- policy and user controls ----------------------------------------------------
    def set_policy(self, policy: Policy, *, bundle: SignedBundle | None = None) -> None:
        """Put ``policy`` in force: consent, retention and decay follow it; saved and audited.

        Raises
        ------
        DeviceError
            When ``bundle`` carries another policy.
        """
        if bundle is not None and bundle.policy_sha256 != policy_hash(policy):
            raise DeviceError("bundle: carries another policy than the one given")
        with self._change():
            self._replace_policy(policy, bundle)

    def _replace_policy(self, policy: Policy, bundle: SignedBundle | None) -> None:
        if policy_hash(policy) == policy_hash(self.policy) and bundle is self._bundle:
            return
        now = self._now()
        state = self._state(now, apply_keep=False)
        self._granted &= policy.consent.allowed_purposes
        self._profiler = self._new_profiler(policy)
        self._bundle = bundle
        kept, _ = apply_retention(state, self.engine, now=now)
        for problem in self._kept.restore(kept, self._profiler):
            _log.warning("%s", problem)
        self._audit(DeviceAuditEvent.POLICY_CHANGES, "policy_replaced", at=now)
        self._save(flush_previous=True)

    def export(self) -> dict[str, Any]:
        """Return everything the device keeps as a JSON-ready mapping (counts as numbers)."""
        document = to_json_document(self._state(self._now()))
        document["profile_view"] = self.profile().to_dict()
        document["store"] = {"path": str(self.path), "persistent": self._persistent}
        return dict(document)

    def forget(self) -> None:
        """Erase everything: the store, its previous generations, its key, and memory.

        Raises
        ------
        DeviceError
            When the device was opened read-only.
        """
        if self._read_only:
            raise DeviceError(f"store {self.path}: opened read-only; nothing can be erased")
        self._store.forget()
        for purpose in Purpose:
            self._profiler.consent.revoke(purpose)
        self._granted = frozenset()
        self._kept.restore({}, self._profiler)
        self._paused, self._paused_at = False, None
        self._created_at = self._now()
        self._persistent = True
        _log.info("device store and key erased")

    def save(self) -> bool:
        """Save the current state now; return ``False`` when the device is not persistent."""
        with self._change():
            return self._save()

    @property
    def read_only(self) -> bool:
        """Whether the device was opened read-only (it never writes)."""
        return self._read_only

    # --- internals -----------------------------------------------------------------------
    def _now(self) -> float:
        return timestamp(self._clock())

    def _live_consent(self) -> frozenset[Purpose]:
        return self._granted - {Purpose.PERSONALIZATION} if self._paused else self._granted

    def _sync_consent(self) -> None:
        """Make the profiler's consent match what was loaded (granted, paused)."""
        live, consent = self._live_consent(), self._profiler.consent
        for purpose in Purpose:
            if purpose in live:
                consent.grant(purpose)
            else:
                consent.revoke(purpose)

    def _new_profiler(self, policy: Policy) -> EdgeProfiler:
        live = self._live_consent()
        return EdgeProfiler(
            policy=policy,
            consent=sorted(live, key=lambda p: p.value),
            model_dir=self._model_dir,
            taxonomy=self._taxonomy,
        )

    def _audit(
        self,
        event: DeviceAuditEvent,
        action: str,
        *,
        at: float | None = None,
        count: int | None = None,
    ) -> bool:
        moment = self._now() if at is None else at
        return self._kept.audit(self.engine, event, action, at=moment, count=count)

    def _state(self, now: float, *, apply_keep: bool = True) -> dict[str, Any]:
        keep = self.engine.retention.keep if apply_keep else frozenset(StoredItem)
        return {
            Section.META.value: {
                "format": FORMAT_VERSION,
                "policy_hash": policy_hash(self.policy),
                "created_at": self._created_at,
                "updated_at": now,
            },
            Section.CONSENT.value: encode_consent(self.consent),
            Section.CONTROLS.value: encode_controls(paused=self._paused, paused_at=self._paused_at),
            Section.POLICY.value: encode_policy(self.policy, self._bundle),
            **self._kept.sections(self._profiler, keep),
        }

    def _save(self, *, flush_previous: bool = False) -> bool:
        if not self._persistent:
            _log.debug("device store not saved: it could not be read when opened")
            return False
        state = self._state(self._now())
        self._store.save(state)
        # Data was removed (here, or by retention on the last load): overwrite the previous
        # generation too, so nothing removed lingers in it.
        if flush_previous or self._flush_on_open:
            self._store.save(state)
            self._flush_on_open = False
        return True
