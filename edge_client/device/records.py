"""The data sections a device keeps for other components: cap counters, feedback, examples.

The selector keeps its cap counters (``caps``) and the trainer its feedback events and
training examples through a :class:`~edge_client.device.Device`, which checks that they
are plain data without free text, stamps records with the time, applies retention to them
and saves them in its encrypted store. Only the data crosses this boundary, so those
components need not import the device.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any

from edge_client.device.errors import DeviceError
from edge_client.device.host import DeviceHost
from edge_client.device.kept import LIST_SECTIONS
from edge_client.device.sections import DataSection, check_plain, timestamped_records
from edge_client.policy.model import DeviceAuditEvent

__all__ = ["SELECTION_EXAMPLES_KEY", "DataSectionsMixin"]

SELECTION_EXAMPLES_KEY = "examples"
"""Key of the training examples in a selector's plain state (``SelectionState.to_dict()``)."""


class DataSectionsMixin:
    """Keep cap counters, feedback events, training examples and audit entries (mixin).

    Mixed into :class:`~edge_client.device.Device`; every change is saved at once.
    """

    def data(self: DeviceHost, section: DataSection) -> Any:
        """Return a copy of a data section (``caps``: dict; the others: list of records)."""
        return copy.deepcopy(self._kept.data[section])

    def set_data(self: DeviceHost, section: DataSection, value: Any) -> None:
        """Replace a data section with plain data (see :func:`check_plain`) and save.

        Raises
        ------
        DeviceError
            When the value is not plain data, or records lack a numeric ``"at"``.
        """
        with self._change():
            if section is DataSection.CAPS:
                if not isinstance(value, dict):
                    raise DeviceError("section 'caps': must be a mapping")
                check_plain(value, "section 'caps'")
                self._kept.data[section] = copy.deepcopy(value)
                self._save()
                return
            if not isinstance(value, list):
                raise DeviceError(f"section {section.value!r}: must be a list of records")
            self._kept.data[section] = timestamped_records(value, section, now=self._now())
            self._save(flush_previous=True)

    def append_records(
        self: DeviceHost, section: DataSection, records: Iterable[Mapping[str, Any]]
    ) -> int:
        """Append feedback events or training examples and save; return how many were kept.

        Records without ``"at"`` get the current time. While paused nothing is recorded.

        Raises
        ------
        DeviceError
            When ``section`` is not a list section or a record is not plain data.
        """
        with self._change():
            if section not in LIST_SECTIONS:
                raise DeviceError(f"section {section.value!r}: is not a list of records")
            checked = timestamped_records(records, section, now=self._now())
            if self._paused or not checked:
                return 0
            self._kept.data[section].extend(checked)
            self._save()
            return len(checked)

    def record_audit(
        self: DeviceHost, event: DeviceAuditEvent, action: str, *, count: int | None = None
    ) -> bool:
        """Add an audit entry (if the policy logs ``event``) and save; return whether it did."""
        with self._change():
            if not self._audit(event, action, count=count):
                return False
            self._save()
            return True

    def keep_selection_state(self: DeviceHost, state: Mapping[str, Any]) -> None:
        """Keep a selector's plain state (``SelectionState.to_dict()``) and save.

        Its ``"examples"`` go to the ``training_examples`` section, where the policy's
        ``training_examples_ttl_days`` applies on every open; the rest (impressions,
        streaks, dismissals: the inputs of the caps) goes to ``caps``.

        Raises
        ------
        DeviceError
            When the state is not plain data or an example has no numeric ``"at"``.
        """
        with self._change():
            if not isinstance(state, Mapping):
                raise DeviceError("selection state: must be a mapping")
            caps = dict(state)
            examples = caps.pop(SELECTION_EXAMPLES_KEY, [])
            if not isinstance(examples, list):
                raise DeviceError(f"selection state: {SELECTION_EXAMPLES_KEY!r} must be a list")
            check_plain(caps, "section 'caps'")
            checked = timestamped_records(examples, DataSection.TRAINING_EXAMPLES, now=self._now())
            self._kept.data[DataSection.CAPS] = copy.deepcopy(caps)
            self._kept.data[DataSection.TRAINING_EXAMPLES] = checked
            self._save()

    def selection_state(self: DeviceHost) -> dict[str, Any]:
        """Return the plain state to restore a selector from (``SelectionState.from_dict``).

        Returns
        -------
        dict[str, Any]
            The ``caps`` section with the kept training examples under ``"examples"``;
            ``{}`` when no selector state was kept.
        """
        caps = copy.deepcopy(self._kept.data[DataSection.CAPS])
        if not caps:
            return {}
        caps[SELECTION_EXAMPLES_KEY] = copy.deepcopy(self._kept.data[DataSection.TRAINING_EXAMPLES])
        return dict(caps)
