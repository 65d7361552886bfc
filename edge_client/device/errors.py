"""Errors raised by :mod:`edge_client.device`.

Messages name the section, record or field that is wrong; they never quote stored values
or user text.
"""

from __future__ import annotations

from edge_client.errors import EdgeProfilerError

__all__ = ["DeviceError"]


class DeviceError(EdgeProfilerError):
    """Data handed to a :class:`~edge_client.device.Device` cannot be kept as it is."""
