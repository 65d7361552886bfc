"""The person's controls on a device: consent to each purpose, and pausing personalization.

Every change is audited (when the policy's ``audit.device_log`` lists ``consent_changes``)
and saved at once. Revoking profiling erases the stored profile, including from the
previous generation of the store.
"""

from __future__ import annotations

from edge_client.device.host import DeviceHost
from edge_client.policy.model import DeviceAuditEvent, Purpose

__all__ = ["UserControlsMixin"]


class UserControlsMixin:
    """Grant and revoke consent, pause and resume personalization (mixin of ``Device``).

    The device keeps the purposes the person granted; the profiler's shared
    :class:`~edge_client.policy.ConsentState` (which a selector built on
    ``device.profiler.consent`` also reads) holds them too, except ``personalization``
    while paused, so nothing personalizes until :meth:`resume`.
    """

    _granted: frozenset[Purpose]
    _paused: bool
    _paused_at: float | None

    @property
    def consent(self: DeviceHost) -> frozenset[Purpose]:
        """The purposes the person opted in to (kept while paused)."""
        return self._granted

    @property
    def paused(self: DeviceHost) -> bool:
        """Whether the person paused personalization."""
        return self._paused

    @property
    def profiling_allowed(self: DeviceHost) -> bool:
        """Whether new text may be profiled now (not paused, consent given)."""
        return not self._paused and self._profiler.consent.allows(Purpose.PROFILING)

    @property
    def personalization_allowed(self: DeviceHost) -> bool:
        """Whether content may be personalized now (not paused, consent given)."""
        return not self._paused and self._profiler.consent.allows(Purpose.PERSONALIZATION)

    def grant(self: DeviceHost, purpose: Purpose) -> None:
        """Record the person's opt-in to ``purpose`` and save.

        Raises
        ------
        ConsentError
            When the policy does not allow the purpose at all.
        """
        with self._change():
            if purpose in self._granted:
                return
            self._profiler.consent.grant(purpose)  # raises when the policy forbids the purpose
            if self._paused and purpose is Purpose.PERSONALIZATION:
                self._profiler.consent.revoke(purpose)  # takes effect on resume
            self._granted |= {purpose}
            self._audit(DeviceAuditEvent.CONSENT_CHANGES, f"granted_{purpose.value}")
            self._save()

    def revoke(self: DeviceHost, purpose: Purpose) -> None:
        """Withdraw the opt-in to ``purpose`` and save; revoking profiling erases the profile."""
        with self._change():
            if purpose not in self._granted:
                return
            self._profiler.consent.revoke(purpose)
            self._granted -= {purpose}
            if purpose is Purpose.PROFILING:
                self._kept.forget_profile(self._profiler)
            self._audit(DeviceAuditEvent.CONSENT_CHANGES, f"revoked_{purpose.value}")
            self._save(flush_previous=purpose is Purpose.PROFILING)

    def pause(self: DeviceHost) -> None:
        """Pause personalization: nothing is profiled or personalized until :meth:`resume`."""
        with self._change():
            if not self._paused:
                self._paused, self._paused_at = True, self._now()
                self._profiler.consent.revoke(Purpose.PERSONALIZATION)
                self._audit(DeviceAuditEvent.CONSENT_CHANGES, "personalization_paused")
                self._save()

    def resume(self: DeviceHost) -> None:
        """Resume personalization after :meth:`pause`."""
        with self._change():
            if self._paused:
                self._paused, self._paused_at = False, None
                if Purpose.PERSONALIZATION in self._granted:
                    self._profiler.consent.grant(Purpose.PERSONALIZATION)
                self._audit(DeviceAuditEvent.CONSENT_CHANGES, "personalization_resumed")
                self._save()
