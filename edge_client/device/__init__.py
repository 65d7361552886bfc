"""The app-facing device: one person's profiler, consent, controls and encrypted store.

A :class:`Device` opens (or creates) the store in the app's data directory, recovers the
last good state whatever happened to the files, applies the policy's retention and decay,
and saves every change atomically. It keeps counts and plain identifiers only, never the
person's text. The user controls (show, export, forget, pause, resume) are methods here and
commands of ``edgeprof store`` (:mod:`edge_client.store.cli`).

Examples
--------
>>> from edge_client.device import Device
>>> from edge_client.policy import Purpose
>>> device = Device(data_dir)                                  # doctest: +SKIP
>>> device.grant(Purpose.PROFILING)                            # doctest: +SKIP
>>> device.observe("I compared both engines on cost before buying.")  # doctest: +SKIP
True
>>> print(device.profile().describe())                         # doctest: +SKIP
"""

from edge_client.device.device import DEFAULT_STORE_NAME, PAUSED_NOTE, Device
from edge_client.device.errors import DeviceError
from edge_client.device.records import SELECTION_EXAMPLES_KEY
from edge_client.device.report import OpenReport
from edge_client.device.retention import RetentionReport, apply_retention, profile_weight
from edge_client.device.sections import (
    TIMESTAMP_KEY,
    Clock,
    DataSection,
    Section,
    check_plain,
    utc_now,
)

__all__ = [
    "DEFAULT_STORE_NAME",
    "PAUSED_NOTE",
    "SELECTION_EXAMPLES_KEY",
    "TIMESTAMP_KEY",
    "Clock",
    "DataSection",
    "Device",
    "DeviceError",
    "OpenReport",
    "RetentionReport",
    "Section",
    "apply_retention",
    "check_plain",
    "profile_weight",
    "utc_now",
]
