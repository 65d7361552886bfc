"""Consent: which purposes the person granted, checked against the policy.

:class:`ConsentState` is runtime state shared by the profiler, the selector and the
trainer: revoking a purpose takes effect for every holder at once, so the next
:meth:`ConsentState.check` refuses.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

from edge_client.arguments import enum_member, enum_members
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
        Purposes already opted in to (members of :class:`Purpose` or their names, such
        as ``"profiling"``).

    Raises
    ------
    ArgumentError
        When ``granted`` holds anything but purposes.
    """

    def __init__(self, rules: ConsentRules, granted: Iterable[Purpose | str] = ()) -> None:
        self._rules = rules
        self._granted = frozenset(enum_members(Purpose, granted, name="consent"))
        self._lock = threading.Lock()

    @property
    def granted(self) -> frozenset[Purpose]:
        """Return the purposes currently opted in to."""
        return self._granted

    def grant(self, purpose: Purpose | str) -> None:
        """Record the person's opt-in to ``purpose``.

        Parameters
        ----------
        purpose
            The purpose (or its name, such as ``"profiling"``).

        Raises
        ------
        ConsentError
            When the policy does not allow the purpose at all.
        ArgumentError
            When ``purpose`` is not a purpose.
        """
        purpose = enum_member(Purpose, purpose, name="purpose")
        if purpose not in self._rules.allowed_purposes:
            raise ConsentError(
                f"purpose {purpose.value!r} is not allowed by the policy in force; it can be "
                "granted only under a policy whose consent.allowed_purposes lists it"
            )
        with self._lock:
            self._granted = self._granted | {purpose}

    def revoke(self, purpose: Purpose | str) -> None:
        """Withdraw the opt-in to ``purpose``; effective immediately for every holder.

        Parameters
        ----------
        purpose
            The purpose (or its name).

        Raises
        ------
        ArgumentError
            When ``purpose`` is not a purpose.
        """
        purpose = enum_member(Purpose, purpose, name="purpose")
        with self._lock:
            self._granted = self._granted - {purpose}

    def allows(self, purpose: Purpose | str) -> bool:
        """Return whether ``purpose`` may run now.

        Parameters
        ----------
        purpose
            The purpose (or its name).

        Returns
        -------
        bool
            ``True`` when the policy allows it and any required opt-in was granted.
        """
        if type(purpose) is not Purpose:  # a name (asked on every observed text: kept cheap)
            purpose = enum_member(Purpose, purpose, name="purpose")
        rules = self._rules
        if purpose not in rules.allowed_purposes:
            return False
        return purpose not in rules.opt_in_required or purpose in self._granted

    def check(self, purpose: Purpose | str) -> None:
        """Raise unless ``purpose`` may run now.

        Parameters
        ----------
        purpose
            The purpose (or its name).

        Raises
        ------
        ConsentError
            When the policy does not allow it, or it needs an opt-in not granted; the
            message says how to grant it.
        """
        purpose = enum_member(Purpose, purpose, name="purpose")
        if purpose not in self._rules.allowed_purposes:
            raise ConsentError(
                f"purpose {purpose.value!r} is not allowed by the policy in force; it can be "
                "granted only under a policy whose consent.allowed_purposes lists it"
            )
        if purpose in self._rules.opt_in_required and purpose not in self._granted:
            raise ConsentError(
                f"purpose {purpose.value!r} needs an explicit opt-in "
                "(consent.opt_in_required) that was not granted; once the person agrees, "
                f"grant it with EdgeProfiler(consent=[Purpose.{purpose.name}]) or "
                f"consent.grant(Purpose.{purpose.name})"
            )
