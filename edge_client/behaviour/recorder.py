"""Record a behaviour event into :class:`BehaviourCounts` under the policy in force.

:func:`record_event` is the one gate every event passes: profiling consent, the event's
policy signal (:data:`~edge_client.behaviour.events.SIGNAL_OF`), known taxonomy nodes, and
the inference boundaries (a category the policy forbids, such as a GDPR Art. 9 one or a
descendant, is dropped before anything is counted, so a view of a health article leaves
no trace). Time of day and device class are kept only as far as the ``context`` and
``device`` signals are allowed. On any refusal nothing is stored.
"""

from __future__ import annotations

from dataclasses import dataclass

from edge_client.behaviour.counts import BehaviourCounts, CountKind
from edge_client.behaviour.errors import BehaviourError, ForbiddenSignalError
from edge_client.behaviour.events import (
    SIGNAL_OF,
    BehaviourEvent,
    ContextEvent,
    DayType,
    DeviceClass,
    DeviceUse,
    EventKind,
    Purchase,
    Session,
    SessionLength,
    TimeOfDay,
    View,
)
from edge_client.errors import ArgumentError
from edge_client.policy.consent import ConsentState
from edge_client.policy.engine import PolicyEngine
from edge_client.policy.model import Purpose, Signal
from edge_client.taxonomy import Taxonomy

__all__ = [
    "RecordResult",
    "check_event",
    "current_device",
    "record_engagement",
    "record_event",
    "view_weight",
]

_Addition = tuple[CountKind, str, str | None, float]
_KINDS = (View, Purchase, Session, DeviceUse, ContextEvent)


@dataclass(frozen=True)
class RecordResult:
    """What recording one event did.

    Attributes
    ----------
    kind : EventKind
        The event's kind.
    stored : bool
        Whether anything was counted (``False`` when every category was forbidden).
    blocked : int
        Categories dropped because the policy forbids them (never counted or logged).
    """

    kind: EventKind
    stored: bool
    blocked: int = 0


def view_weight(dwell_seconds: float) -> float:
    """Return a view's weight: its dwell time over 30 s, between 0.25 and 4."""
    return min(4.0, max(0.25, dwell_seconds / 30.0))


def current_device(counts: BehaviourCounts) -> DeviceClass | None:
    """Return the device class used most (``None`` when none was recorded)."""
    uses = counts.of_kind(CountKind.DEVICE)
    if not uses:
        return None
    best = max(sorted(uses), key=lambda name: uses[name])
    return DeviceClass(best)


def _allowed_nodes(
    categories: tuple[str, ...], engine: PolicyEngine, taxonomy: Taxonomy, where: str
) -> tuple[list[str], int]:
    unknown = [c for c in categories if c not in taxonomy.nodes]
    if unknown:
        raise BehaviourError(
            f"{where}.categories: {len(unknown)} unknown taxonomy node id(s) {unknown[:3]} "
            "(use the ids of edge_client.taxonomy.load_taxonomy())"
        )
    allowed = [c for c in categories if engine.is_interest_allowed(c)]
    return allowed, len(categories) - len(allowed)


def _context_additions(
    nodes: list[str],
    weight: float,
    *,
    engine: PolicyEngine,
    counts: BehaviourCounts,
    at: object,
    device: DeviceClass | None,
) -> list[_Addition]:
    out: list[_Addition] = []
    if at is not None and engine.is_signal_allowed(Signal.CONTEXT):
        tod = TimeOfDay.of(at).value  # type: ignore[arg-type]  # events check `at` is a datetime
        out += [(CountKind.ENGAGED_TIME, tod, node, weight) for node in nodes]
    if engine.is_signal_allowed(Signal.DEVICE):
        used = device if device is not None else current_device(counts)
        if used is not None:
            out += [(CountKind.ENGAGED_DEVICE, used.value, node, weight) for node in nodes]
    return out


def _additions(
    event: BehaviourEvent, counts: BehaviourCounts, engine: PolicyEngine, taxonomy: Taxonomy
) -> tuple[list[_Addition], int]:
    if isinstance(event, View):
        nodes, blocked = _allowed_nodes(event.categories, engine, taxonomy, "View")
        weight = view_weight(event.dwell_seconds)
        adds: list[_Addition] = [(CountKind.VIEW, n, None, weight) for n in nodes]
        adds += [(CountKind.VIEWS, n, None, 1.0) for n in nodes]
        if nodes:
            adds += _context_additions(
                nodes, weight, engine=engine, counts=counts, at=event.at, device=event.device
            )
        return adds, blocked
    if isinstance(event, Purchase):
        nodes, blocked = _allowed_nodes(event.categories, engine, taxonomy, "Purchase")
        adds = [(CountKind.PURCHASE, n, None, 1.0) for n in nodes]
        if nodes:
            adds.append((CountKind.AMOUNT, event.amount.value, None, 1.0))
        return adds, blocked
    if isinstance(event, Session):
        adds = [(CountKind.SESSION_LENGTH, SessionLength.of(event.length_seconds).value, None, 1.0)]
        if event.at is not None:
            adds.append((CountKind.SESSION_TIME, TimeOfDay.of(event.at).value, None, 1.0))
        return adds, 0
    if isinstance(event, DeviceUse):
        return [(CountKind.DEVICE, event.device_class.value, None, 1.0)], 0
    adds = [(CountKind.INTENT, event.intent.value, None, 1.0)]
    if event.at is not None:
        adds.append((CountKind.CONTEXT_TIME, TimeOfDay.of(event.at).value, None, 1.0))
        adds.append((CountKind.CONTEXT_DAY, DayType.of(event.at).value, None, 1.0))
    return adds, 0


def check_event(event: object) -> BehaviourEvent:
    """Return ``event`` when it is a behaviour event.

    Raises
    ------
    ArgumentError
        When it is not one, naming the accepted kinds.
    """
    if not isinstance(event, _KINDS):
        raise ArgumentError(
            f"record(event): expected a View, Purchase, Session, DeviceUse or ContextEvent "
            f"(edge_client.behaviour), got {type(event).__name__}"
        )
    return event


def record_event(
    counts: BehaviourCounts,
    event: BehaviourEvent,
    *,
    engine: PolicyEngine,
    taxonomy: Taxonomy,
    consent: ConsentState,
) -> RecordResult:
    """Count ``event`` into ``counts`` if the policy and the person's consent allow it.

    Parameters
    ----------
    counts : BehaviourCounts
        The person's counts (changed in place only when the event is accepted).
    event : View, Purchase, Session, DeviceUse or ContextEvent
        The event.
    engine : PolicyEngine
        The policy in force.
    taxonomy : Taxonomy
        The taxonomy category ids refer to.
    consent : ConsentState
        The person's consent.

    Returns
    -------
    RecordResult
        What was counted and how many categories the policy dropped.

    Raises
    ------
    ArgumentError
        When ``event`` is not a behaviour event.
    ConsentError
        When profiling is not consented; nothing is stored.
    ForbiddenSignalError
        When the policy forbids the event's signal; nothing is stored.
    BehaviourError
        When a category is not a taxonomy node; nothing is stored.
    """
    event = check_event(event)
    consent.check(Purpose.PROFILING)
    signal = SIGNAL_OF[event.kind]
    if not engine.is_signal_allowed(signal):
        policy = engine.policy
        raise ForbiddenSignalError(
            f"policy {policy.name!r} v{policy.version} does not allow profiling "
            f"{signal.value!r} (signals.allowed / signals.forbidden): the {event.kind.value} "
            "event was refused and nothing was stored"
        )
    additions, blocked = _additions(event, counts, engine, taxonomy)
    for kind, first, second, weight in additions:
        counts.add(kind, first, second, weight=weight)
    return RecordResult(event.kind, bool(additions), blocked)


def record_engagement(
    counts: BehaviourCounts,
    categories: tuple[str, ...],
    *,
    engine: PolicyEngine,
    at: object,
    device: DeviceClass | None,
) -> int:
    """Count engagement with a shown item by time of day and device class, where allowed.

    Only the context counts change (engagement is not a view, so interests do not move);
    forbidden categories are skipped. Returns how many counts were added.
    """
    nodes = [c for c in categories if engine.is_interest_allowed(c)]
    adds = _context_additions(nodes, 1.0, engine=engine, counts=counts, at=at, device=device)
    for kind, first, second, weight in adds:
        counts.add(kind, first, second, weight=weight)
    return len(adds)
