"""Consent: which purposes the person granted, checked against the policy.

:class:`ConsentState` is runtime state shared by the profiler, the selector and the
trainer: revoking a purpose takes effect for every holder at once, so the next
:meth:`ConsentState.check` refuses.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

from edge_client.policy.errors import ConsentError
from edge_client.policy.model import ConsentRules, Purpose

__all__ = ["ConsentState"]


class ConsentState:
    """The purposes a person has opted in to, checked against a policy's consent rules.

    Parameters
    ----------
    rules
        The policy's ``[consent]`` rules.
    granted
        Purposes already opted in to.
    """

    def __init__(self, rules: ConsentRules, granted: Iterable[Purpose] = ()) -> None:
        self._rules = rules
        self._granted = frozenset(granted)
        self._lock = threading.Lock()

    @property
    def granted(self) -> frozenset[Purpose]:
        """Return the purposes currently opted in to."""
        return self._granted

    def grant(self, purpose: Purpose) -> None:
        """Record the person's opt-in to ``purpose``.

        Parameters
        ----------
        purpose
            The purpose.

        Raises
        ------
        ConsentError
            When the policy does not allow the purpose at all.
        """
        if purpose not in self._rules.allowed_purposes:
            raise ConsentError(
                f"purpose {purpose.value!r} is not allowed by the policy (consent.allowed_purposes)"
            )
        with self._lock:
            self._granted = self._granted | {purpose}

    def revoke(self, purpose: Purpose) -> None:
        """Withdraw the opt-in to ``purpose``; effective immediately for every holder.

        Parameters
        ----------
        purpose
            The purpose.
        """
        with self._lock:
            self._granted = self._granted - {purpose}

    def allows(self, purpose: Purpose) -> bool:
        """Return whether ``purpose`` may run now.

        Parameters
        ----------
        purpose
            The purpose.

        Returns
        -------
        bool
            ``True`` when the policy allows it and any required opt-in was granted.
        """
        if purpose not in self._rules.allowed_purposes:
            return False
        return purpose not in self._rules.opt_in_required or purpose in self._granted

    def check(self, purpose: Purpose) -> None:
        """Raise unless ``purpose`` may run now.

        Parameters
        ----------
        purpose
            The purpose.

        Raises
        ------
        ConsentError
            When the policy does not allow it, or it needs an opt-in not granted.
        """
        if purpose not in self._rules.allowed_purposes:
            raise ConsentError(
                f"purpose {purpose.value!r} is not allowed by the policy (consent.allowed_purposes)"
            )
        if purpose in self._rules.opt_in_required and purpose not in self._granted:
            raise ConsentError(
                f"purpose {purpose.value!r} needs an explicit opt-in "
                "(consent.opt_in_required) that was not granted"
            )
