"""Validation findings: one :class:`Problem` per issue, with file, field and line.

Validation collects every problem instead of stopping at the first, so ``lint`` can
report them all; :func:`raise_for_errors` turns a list into a
:class:`~edge_client.policy.errors.PolicyValidationError` when any is an error.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass

from edge_client.policy.errors import PolicyValidationError

__all__ = ["Problem", "Severity", "raise_for_errors"]


class Severity(enum.Enum):
    """How serious a finding is: errors make a policy unusable, warnings do not."""

    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Problem:
    """One finding about a policy document.

    Parameters
    ----------
    file
        The document's path or name (``"<string>"`` when parsed from text).
    field
        Dotted field path, e.g. ``"federated.min_cohort"``; empty for the whole document.
    line
        1-based line of the field (or its table) in the source, when known.
    message
        What is wrong; never quotes user text.
    severity
        :class:`Severity.ERROR` or :class:`Severity.WARNING`.
    """

    file: str
    field: str
    line: int | None
    message: str
    severity: Severity = Severity.ERROR

    @property
    def is_error(self) -> bool:
        """Return whether this finding makes the policy unusable."""
        return self.severity is Severity.ERROR

    def __str__(self) -> str:
        """Format as ``file:line: severity: field: message``."""
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        field = f"{self.field}: " if self.field else ""
        return f"{where}: {self.severity.value}: {field}{self.message}"


def raise_for_errors(problems: Iterable[Problem]) -> None:
    """Raise if any problem is an error.

    Parameters
    ----------
    problems
        Findings from validation.

    Raises
    ------
    PolicyValidationError
        When at least one finding is an error; it carries every finding.
    """
    found = list(problems)
    if any(p.is_error for p in found):
        raise PolicyValidationError(found)
