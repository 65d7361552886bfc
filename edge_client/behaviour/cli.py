"""``edgeprof store event``: record a first-party behaviour event into the device's store.

Registered under ``edgeprof store`` (:mod:`edge_client.store.cli`). One sub-command per
event kind; each is a policy signal, refused (exit status 1, nothing stored) when the
policy forbids it or profiling is not consented. ``--grant`` records the person's own
opt-in to profiling first, as ``edgeprof store observe`` does for text.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

import click

from edge_client.console import ExitCode, fail
from edge_client.errors import EdgeProfilerError

if TYPE_CHECKING:
    from edge_client.behaviour.events import BehaviourEvent

__all__ = ["event"]

_AT = click.option(
    "--at",
    "at",
    type=click.DateTime(["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M%z"]),
    default=None,
    help="When it happened, with its UTC offset (e.g. 2025-01-06T20:15:00+01:00); its local "
    "hour gives the time of day. Default: not recorded.",
)
_GRANT = click.option(
    "--grant", is_flag=True, help="Record your opt-in to profiling first (your own device)."
)


def _record(ctx: click.Context, grant: bool, build: Callable[[], BehaviourEvent]) -> None:
    from edge_client.policy import Purpose
    from edge_client.store.cli import open_device

    try:
        event = build()
    except EdgeProfilerError as exc:
        fail(str(exc), ExitCode.USAGE)
    device = open_device(ctx)
    if device.paused:
        fail("personalization is paused: nothing was recorded ('resume' first)")
    try:
        if grant:
            device.grant(Purpose.PROFILING)
        result = device.record(event)
    except EdgeProfilerError as exc:
        hint = "" if grant or device.profiling_allowed else " (add --grant to opt in)"
        fail(f"{exc}{hint}")
    if not result.stored:
        fail(
            f"nothing was recorded: the policy forbids every category of this "
            f"{result.kind.value} ({result.blocked} dropped, never stored)"
        )
    dropped = (
        f"; {result.blocked} categor{'y' if result.blocked == 1 else 'ies'} dropped "
        "(forbidden by the policy, never stored)"
        if result.blocked
        else ""
    )
    if not device.persistent:  # the store could not be written: the event was not kept
        fail(f"{device.path}: the event was not saved (see the message above)")
    click.echo(f"Recorded a {result.kind.value} event as counts{dropped}.")


@click.group("event", context_settings={"help_option_names": ["-h", "--help"]})
def event() -> None:
    """Record what you did (a view, purchase, session, device, context) as counts.

    Each kind is a signal of the privacy policy: when the policy forbids it, or profiling
    is not consented, the event is refused and nothing is stored (exit status 1). Only
    decayed counts are kept, never the event; categories the policy forbids are dropped.
    """


@event.command("view")
@click.option(
    "--category",
    "categories",
    multiple=True,
    required=True,
    help="Taxonomy node id of the content (repeat for several).",
)
@click.option("--dwell", type=float, default=30.0, show_default=True, help="Seconds spent on it.")
@click.option("--device", "device_class", default=None, help="Device class (phone, ...).")
@_AT
@_GRANT
@click.pass_context
def view_command(
    ctx: click.Context,
    categories: tuple[str, ...],
    dwell: float,
    device_class: str | None,
    at: datetime | None,
    grant: bool,
) -> None:
    """Record viewing content in CATEGORY for --dwell seconds."""
    from edge_client.behaviour.events import View

    device: Any = device_class  # View checks the name and names the classes when wrong
    _record(ctx, grant, lambda: View(categories, dwell_seconds=dwell, at=at, device=device))


@event.command("purchase")
@click.option(
    "--category",
    "categories",
    multiple=True,
    required=True,
    help="Taxonomy node id of what was bought (repeat for several).",
)
@click.option(
    "--amount",
    type=float,
    required=True,
    help="Amount paid; only its bucket (under 10, 10-50, 50-200, ...) is kept.",
)
@_AT
@_GRANT
@click.pass_context
def purchase_command(
    ctx: click.Context, categories: tuple[str, ...], amount: float, at: datetime | None, grant: bool
) -> None:
    """Record a purchase in CATEGORY (the amount is kept as a coarse bucket only)."""
    from edge_client.behaviour.events import AmountBucket, Purchase

    _record(ctx, grant, lambda: Purchase(categories, amount=AmountBucket.of(amount), at=at))


@event.command("session")
@click.option("--minutes", type=float, required=True, help="Length of the session.")
@_AT
@_GRANT
@click.pass_context
def session_command(ctx: click.Context, minutes: float, at: datetime | None, grant: bool) -> None:
    """Record a session of --minutes (kept as short/medium/long and its time of day)."""
    from edge_client.behaviour.events import Session

    _record(ctx, grant, lambda: Session(minutes * 60.0, at=at))


@event.command("device")
@click.argument(
    "device_class",
    metavar="CLASS",
    type=click.Choice(["phone", "tablet", "desktop", "tv", "other"]),
)
@_GRANT
@click.pass_context
def device_command(ctx: click.Context, device_class: str, grant: bool) -> None:
    """Record using a device of CLASS."""
    from edge_client.behaviour.events import DeviceClass, DeviceUse

    _record(ctx, grant, lambda: DeviceUse(DeviceClass(device_class)))


@event.command("context")
@click.option(
    "--intent",
    type=click.Choice(["browsing", "researching", "buying"]),
    default="browsing",
    show_default=True,
    help="What you are doing.",
)
@_AT
@_GRANT
@click.pass_context
def context_command(ctx: click.Context, intent: str, at: datetime | None, grant: bool) -> None:
    """Record your current intent (and the time of day with --at)."""
    from edge_client.behaviour.events import ContextEvent, Intent

    _record(ctx, grant, lambda: ContextEvent(Intent(intent), at=at))
