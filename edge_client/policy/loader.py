"""Read and validate policy documents (TOML files, TOML text, or canonical JSON).

Validation collects every problem with its file, dotted field and line: unknown keys,
wrong types, out-of-range values, then the contradictions of
:mod:`edge_client.policy.checks`. :func:`lint_document` returns the problems and the
policy (when there is no error); :func:`parse_policy` and :func:`load_policy` raise
:class:`~edge_client.policy.errors.PolicyValidationError` instead.
"""

from __future__ import annotations

import enum
import math
import unicodedata
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from edge_client.decoding import (
    DecodeError,
    Limits,
    decode_utf8,
    loads_toml,
    read_bounded,
    valid_text,
)
from edge_client.policy.checks import check_contradictions, check_epsilon, check_nodes
from edge_client.policy.errors import PolicyError
from edge_client.policy.fields import FIELDS, FieldKind, FieldSpec, field_map
from edge_client.policy.lines import line_of, toml_line_index
from edge_client.policy.model import (
    AuditRules,
    ConsentRules,
    FederatedRules,
    InferenceRules,
    OutcomeAuditRules,
    PersonalizationRules,
    Policy,
    PolicyMeta,
    RetentionRules,
    SignalRules,
    TraitRule,
)
from edge_client.policy.problems import Problem, raise_for_errors

if TYPE_CHECKING:
    from edge_client.policy.presets import Preset
    from edge_client.taxonomy import Taxonomy

__all__ = [
    "MAX_POLICY_BYTES",
    "POLICY_LIMITS",
    "LintResult",
    "lint_document",
    "lint_file",
    "lint_text",
    "load_policy",
    "parse_policy",
    "read_policy_text",
]

MAX_POLICY_BYTES = 256 * 1024
"""Largest policy file read (the presets are about 4 kB)."""

POLICY_LIMITS = Limits(max_bytes=MAX_POLICY_BYTES, max_depth=8, allow_non_finite=True)
"""Bounds of a policy document; non-finite numbers are reported by field, with their line."""


@dataclass(frozen=True)
class LintResult:
    """Outcome of linting one document.

    Parameters
    ----------
    source
        The document's path or name.
    problems
        Every finding, errors and warnings.
    policy
        The parsed policy, or ``None`` when there were errors.
    """

    source: str
    problems: tuple[Problem, ...]
    policy: Policy | None

    @property
    def ok(self) -> bool:
        """Return whether no finding is an error."""
        return not any(p.is_error for p in self.problems)


def _tables() -> frozenset[str]:
    tables: set[str] = set()
    for spec in FIELDS:
        parts = spec.path.split(".")
        tables.update(".".join(parts[:i]) for i in range(1, len(parts)))
    return frozenset(tables)


def _is_finite(value: object) -> bool:
    """Return whether a number converts to a finite float (a huge int does not)."""
    try:
        return math.isfinite(value)  # type: ignore[arg-type]  # callers pass numbers
    except OverflowError:
        return False


def _type_error(spec: FieldSpec, value: object) -> str | None:
    number = isinstance(value, int | float) and not isinstance(value, bool)
    expected: dict[FieldKind, tuple[bool, str]] = {
        FieldKind.BOOL: (isinstance(value, bool), "must be true or false"),
        FieldKind.INT: (number and isinstance(value, int), "must be an integer"),
        FieldKind.FLOAT: (number and _is_finite(value), "must be a finite number"),
        FieldKind.STR: (isinstance(value, str), "must be a string"),
        FieldKind.ENUM: (isinstance(value, str), "must be a string"),
    }
    ok, message = expected.get(
        spec.kind,
        (
            isinstance(value, list) and all(isinstance(v, str) for v in value),
            "must be a list of strings",
        ),
    )
    return None if ok else message


def _show(value: object) -> str:
    """Return a number or string for a message, short (never thousands of characters)."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 64:
        return f"an integer of about {int(value.bit_length() * 0.30103) + 1} digits"
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _text_problem(spec: FieldSpec, text: str, what: str) -> str | None:
    if spec.max_length is not None and len(text) > spec.max_length:
        return f"{what} longer than {spec.max_length:,} characters"
    if not valid_text(text):
        return f"{what} holds a lone surrogate (not valid Unicode)"
    if any(unicodedata.category(c) == "Cc" and c not in "\t\n" for c in text):
        return f"{what} holds a control character"
    return None


def _value_problems(spec: FieldSpec, value: object) -> list[str]:
    """Return range and membership problems of a well-typed value."""
    found: list[str] = []
    if spec.kind in (FieldKind.INT, FieldKind.FLOAT):
        # Compared as they are: Python compares int and float exactly, without overflow.
        number: float = value  # type: ignore[assignment]  # type checked by _type_error
        low, high = spec.minimum, spec.maximum
        below = low is not None and (number <= low if spec.exclusive_minimum else number < low)
        if below or (high is not None and number > high):
            found.append(f"must be {spec.range_text()}, got {_show(value)}")
    elif spec.choices is not None:
        allowed = {m.value for m in spec.choices}
        items = [value] if spec.kind is FieldKind.ENUM else list(value)  # type: ignore[call-overload]  # list
        for item in items:
            if item not in allowed:
                found.append(f"unknown value {_show(item)}; expected one of {spec.range_text()}")
    if spec.kind is FieldKind.STR:
        problem = _text_problem(spec, value, "text")  # type: ignore[arg-type]  # str checked
        found.extend([problem] if problem else [])
    if spec.kind in (FieldKind.ENUM_SET, FieldKind.STR_SET):
        items = list(value)  # type: ignore[call-overload]  # list checked by _type_error
        if spec.max_items is not None and len(items) > spec.max_items:
            return [f"more than {spec.max_items:,} entries"]
        repeated = sorted(item for item, count in Counter(items).items() if count > 1)
        found.extend(f"{_show(item)} is listed more than once" for item in repeated)
        if spec.kind is FieldKind.STR_SET:
            if any(not item.strip() for item in items):
                found.append("entries must not be empty")
            problems = {_text_problem(spec, item, "an entry") for item in items} - {None}
            found.extend(sorted(p for p in problems if p))
    return found


def _convert(spec: FieldSpec, value: object) -> object:
    if spec.kind is FieldKind.FLOAT:
        return float(value)  # type: ignore[arg-type]  # checked number
    if spec.kind is FieldKind.ENUM and spec.choices is not None:
        return spec.choices(value)
    if spec.kind is FieldKind.ENUM_SET and spec.choices is not None:
        choices: type[enum.Enum] = spec.choices
        return frozenset(choices(v) for v in value)  # type: ignore[attr-defined]  # list
    if spec.kind is FieldKind.STR_SET:
        return frozenset(value)  # type: ignore[call-overload]  # list of str
    return value


def _walk(
    document: Mapping[str, Any],
    *,
    source: str,
    lines: Mapping[str, int],
    values: dict[str, object],
    problems: list[Problem],
    prefix: str = "",
) -> None:
    fields, tables = field_map(), _tables()
    parent = prefix.rstrip(".")
    known = [p.rpartition(".")[2] for p in (*fields, *tables) if p.rpartition(".")[0] == parent]
    for key, value in document.items():
        path = f"{prefix}{key}"
        spec = fields.get(path)
        if spec is not None:
            error = _type_error(spec, value)
            messages = [error] if error else _value_problems(spec, value)
            for message in messages:
                problems.append(Problem(source, path, line_of(lines, path), message))
            if not messages:
                values[path] = _convert(spec, value)
        elif path in tables:
            if isinstance(value, Mapping):
                _walk(
                    value,
                    source=source,
                    lines=lines,
                    values=values,
                    problems=problems,
                    prefix=f"{path}.",
                )
            else:
                problems.append(Problem(source, path, line_of(lines, path), "must be a table"))
        else:
            import difflib  # only for the error message: keeps policy loading light

            close = difflib.get_close_matches(key, known, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            problems.append(Problem(source, path, line_of(lines, path), f"unknown key{hint}"))


def _build(values: Mapping[str, object]) -> Policy:
    def section(name: str) -> dict[str, Any]:
        return {
            p.split(".", 1)[1]: v
            for p, v in values.items()
            if p.startswith(f"{name}.") and p.count(".") == 1
        }

    def table(prefix: str) -> dict[str, Any]:
        return {p.rsplit(".", 1)[1]: v for p, v in values.items() if p.startswith(f"{prefix}.")}

    return Policy(
        policy=PolicyMeta(**section("policy")),
        consent=ConsentRules(**section("consent")),
        signals=SignalRules(**section("signals")),
        inference=InferenceRules(
            decision_style=TraitRule(**table("inference.decision_style")),
            interests=TraitRule(**table("inference.interests")),
            **section("inference"),
        ),
        personalization=PersonalizationRules(**section("personalization")),
        retention=RetentionRules(**section("retention")),
        federated=FederatedRules(**section("federated")),
        audit=AuditRules(**section("audit"), outcomes=OutcomeAuditRules(**table("audit.outcomes"))),
    )


def lint_document(
    document: Mapping[str, Any],
    *,
    source: str = "<string>",
    lines: Mapping[str, int] | None = None,
    epsilon: bool = True,
    taxonomy: Taxonomy | None = None,
) -> LintResult:
    """Validate a parsed document and collect every problem.

    Parameters
    ----------
    document
        Nested tables, as from ``tomllib`` or the canonical JSON.
    source
        Name used in messages (the file path).
    lines
        Dotted path to source line, from :func:`~edge_client.policy.lines.toml_line_index`.
    epsilon
        Whether to check the target epsilon with the accountant (needs ``dp_accounting``;
        when it is missing a warning says the check could not run).
    taxonomy
        When given, forbidden node ids are checked against it.

    Returns
    -------
    LintResult
        Every problem, and the policy when none is an error.
    """
    index: Mapping[str, int] = lines or {}
    problems: list[Problem] = []
    values: dict[str, object] = {}
    _walk(document, source=source, lines=index, values=values, problems=problems)
    for spec in FIELDS:
        if spec.path in values or any(p.field == spec.path for p in problems):
            continue
        if spec.required:
            problems.append(Problem(source, spec.path, line_of(index, spec.path), "is required"))
        else:
            default = spec.default
            values[spec.path] = _convert(
                spec, list(default) if isinstance(default, tuple) else default
            )
    if any(p.is_error for p in problems):
        return LintResult(source, tuple(problems), None)
    policy = _build(values)
    problems.extend(check_contradictions(policy, source=source, lines=index))
    if epsilon:
        problems.extend(check_epsilon(policy, source=source, lines=index))
    if taxonomy is not None:
        problems.extend(check_nodes(policy, taxonomy, source=source, lines=index))
    ok = not any(p.is_error for p in problems)
    return LintResult(source, tuple(problems), policy if ok else None)


def lint_text(
    text: str, *, source: str = "<string>", epsilon: bool = True, taxonomy: Taxonomy | None = None
) -> LintResult:
    """Parse TOML ``text`` and validate it; a TOML syntax error becomes one problem.

    Parameters
    ----------
    text
        TOML source.
    source
        Name used in messages.
    epsilon
        Whether to run the accountant check.
    taxonomy
        When given, forbidden node ids are checked against it.

    Returns
    -------
    LintResult
        Every problem, and the policy when none is an error.
    """
    try:
        document = loads_toml(text, source=source, limits=POLICY_LIMITS)
    except DecodeError as exc:
        line = exc.line
        if line is None and exc.field:  # the document parsed: its keys can be located
            line = line_of(toml_line_index(text), exc.field)
        return LintResult(source, (Problem(source, exc.field or "", line, exc.problem),), None)
    return lint_document(
        document, source=source, lines=toml_line_index(text), epsilon=epsilon, taxonomy=taxonomy
    )


def read_policy_text(path: str | Path) -> str:
    """Read a policy file as UTF-8 text, within :data:`MAX_POLICY_BYTES`.

    Parameters
    ----------
    path
        The file.

    Returns
    -------
    str
        Its text.

    Raises
    ------
    PolicyError
        When the file is missing, not a regular file (a FIFO, a device), larger than
        :data:`MAX_POLICY_BYTES`, or not UTF-8 (naming the line and byte offset).
    """
    try:
        return decode_utf8(read_bounded(path, max_bytes=MAX_POLICY_BYTES), source=str(path))
    except DecodeError as exc:
        raise PolicyError(f"cannot read policy: {exc}") from None


def lint_file(
    path: str | Path, *, epsilon: bool = True, taxonomy: Taxonomy | None = None
) -> LintResult:
    """Read and lint a policy file; a file that cannot be read is one problem.

    Parameters
    ----------
    path
        The ``.toml`` file.
    epsilon
        Whether to run the accountant check.
    taxonomy
        When given, forbidden node ids are checked against it.

    Returns
    -------
    LintResult
        Every problem, and the policy when none is an error.
    """
    try:
        text = read_policy_text(path)
    except PolicyError as exc:
        return LintResult(str(path), (Problem(str(path), "", None, str(exc)),), None)
    return lint_text(text, source=str(path), epsilon=epsilon, taxonomy=taxonomy)


def parse_policy(text: str, *, source: str = "<string>", epsilon: bool = False) -> Policy:
    """Parse and validate a TOML policy.

    Parameters
    ----------
    text
        TOML source.
    source
        Name used in messages.
    epsilon
        Whether to also check the target epsilon with the accountant.

    Returns
    -------
    Policy
        The validated policy.

    Raises
    ------
    PolicyValidationError
        Listing every error (file, field, line).
    """
    result = lint_text(text, source=source, epsilon=epsilon)
    raise_for_errors(result.problems)
    if result.policy is None:  # pragma: no cover - raise_for_errors raised already
        raise PolicyError(f"{source}: policy could not be parsed")
    return result.policy


def load_policy(path: str | Path | Preset, *, epsilon: bool = False) -> Policy:
    """Read and validate a TOML policy file, or a shipped preset by name.

    Parameters
    ----------
    path
        The ``.toml`` file, or a preset: :class:`~edge_client.policy.Preset` or its name
        (``"default"``, ``"strict"``, ``"research"``), as the command line accepts.
    epsilon
        Whether to also check the target epsilon with the accountant.

    Returns
    -------
    Policy
        The validated policy.

    Raises
    ------
    PolicyError
        When the file cannot be read, or ``path`` is neither a file nor a preset name.
    PolicyValidationError
        Listing every error (file, field, line).
    ArgumentError
        When ``path`` is not a path, a string or a preset.
    """
    from edge_client.policy.presets import policy_file  # presets import this module

    file = policy_file(path)
    return parse_policy(read_policy_text(file), source=str(file), epsilon=epsilon)
