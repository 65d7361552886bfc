"""``edgeprof store``: see, export, erase, pause and feed what this device keeps about you.

The lead registers :data:`store` under the main group (``main.add_command(store)``). Every
command opens the device's store in ``--dir`` (default ``$EDGEPROF_HOME``, else
``~/.local/share/edge-profiler``); a damaged store or a wrong key is reported on standard
error and the command carries on with the last good (or an empty) state. ``show`` and
``export`` only read (they work on a read-only directory); the other commands change the
store under its lock, waiting a bounded time while another process changes it. Exit
status: 0 on success, 1 when nothing could be done or a change was not saved (paused, bad
input, wrong key, store in use past the wait), 2 when the device cannot start.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import click

from edge_client.errors import EdgeProfilerError
from edge_client.store.errors import StoreError

if TYPE_CHECKING:
    from edge_client.device import Device

__all__ = ["DEFAULT_HOME", "HOME_ENV", "default_home", "open_device", "store"]

HOME_ENV = "EDGEPROF_HOME"
"""Environment variable naming the data directory."""

DEFAULT_HOME = Path("~/.local/share/edge-profiler")
"""Data directory used when neither ``--dir`` nor :data:`HOME_ENV` is given."""

_TEXT_SIGNALS = ("post_text", "comment_text", "review_text", "message_text")


def default_home() -> Path:
    """Return ``$EDGEPROF_HOME`` or, when unset or empty, ``~/.local/share/edge-profiler``."""
    configured = os.environ.get(HOME_ENV)
    return Path(configured).expanduser() if configured else DEFAULT_HOME.expanduser()


def open_device(ctx: click.Context) -> Device:
    """Open the device of ``edgeprof store --dir`` for a change (exit 2 when it cannot start)."""
    return _open(ctx)


def _open(ctx: click.Context, *, read_only: bool = False) -> Device:
    from edge_client.device import Device  # loads the models: only when a command runs

    data_dir: Path = ctx.obj
    try:
        device = Device(data_dir, read_only=read_only)
    except EdgeProfilerError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    report = device.report
    if not report.ok:
        click.echo(report.describe(), err=True)
    return device


def _saved_or_exit(device: Device, message: str) -> None:
    """Print ``message``; exit 1 when the change could not be saved (it was not kept)."""
    if device.persistent:
        click.echo(message)
        return
    click.echo(f"{message} (NOT saved: see the message above)")
    click.echo(f"error: {device.path}: the change was not saved", err=True)
    sys.exit(1)


def _change_failed(exc: EdgeProfilerError) -> NoReturn:
    click.echo(f"error: {exc}", err=True)
    sys.exit(1)


@click.group("store", context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--dir",
    "data_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help=f"Data directory of the device (default: ${HOME_ENV}, else {DEFAULT_HOME}).",
)
@click.pass_context
def store(ctx: click.Context, data_dir: Path | None) -> None:
    """What this device keeps about you: show, export, forget, pause, resume, observe, event."""
    ctx.obj = data_dir.expanduser() if data_dir is not None else default_home()


@store.command("show")
@click.option("--explain", is_flag=True, help="Also say which signals drove the profile.")
@click.pass_context
def show_command(ctx: click.Context, explain: bool) -> None:
    """Show the profile kept on this device, in plain words (reads, never writes)."""
    device = _open(ctx, read_only=True)
    state = "paused" if device.paused else "active"
    granted = ", ".join(sorted(p.value for p in device.consent)) or "nothing"
    click.echo(f"Store: {device.path}")
    click.echo(f"Personalization: {state}; consent given for: {granted}")
    click.echo(f"Policy in force: {device.policy.policy.name} v{device.policy.policy.version}")
    click.echo(device.profile().describe())
    if explain:
        click.echo(device.explain().text())
    from edge_client.device import DataSection

    feedback = len(device.data(DataSection.FEEDBACK))
    examples = len(device.data(DataSection.TRAINING_EXAMPLES))
    click.echo(f"Also kept: {feedback} feedback event(s), {examples} training example(s).")


@store.command("export")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to this file (created with mode 0600) instead of standard output.",
)
@click.pass_context
def export_command(ctx: click.Context, out: Path | None) -> None:
    """Export everything kept on this device as JSON (hashed counts as numbers).

    Reads only: the data directory may be read-only.
    """
    device = _open(ctx, read_only=True)
    text = json.dumps(device.export(), indent=2, sort_keys=True, allow_nan=False) + "\n"
    if out is None:
        click.echo(text, nl=False)
        return
    try:
        descriptor = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
    except OSError as exc:
        click.echo(f"error: {out}: cannot write ({exc.strerror})", err=True)
        sys.exit(1)
    click.echo(f"Exported to {out}.")


@store.command("forget")
@click.confirmation_option(
    "--yes", prompt="Erase everything this device keeps about you, and its key?"
)
@click.pass_context
def forget_command(ctx: click.Context) -> None:
    """Erase the store and its key (asks first, unless --yes)."""
    device = _open(ctx)
    try:
        device.forget()
    except EdgeProfilerError as exc:
        _change_failed(exc)
    click.echo(f"Erased the store and its key in {ctx.obj}.")


@store.command("pause")
@click.pass_context
def pause_command(ctx: click.Context) -> None:
    """Pause personalization: nothing is profiled or personalized until 'resume'."""
    device = _open(ctx)
    try:
        device.pause()
    except EdgeProfilerError as exc:
        _change_failed(exc)
    _saved_or_exit(device, "Personalization is paused.")


@store.command("resume")
@click.pass_context
def resume_command(ctx: click.Context) -> None:
    """Resume personalization after 'pause'."""
    device = _open(ctx)
    try:
        device.resume()
    except EdgeProfilerError as exc:
        _change_failed(exc)
    _saved_or_exit(device, "Personalization is active.")


@store.command("observe")
@click.argument("files", nargs=-1, required=True, metavar="FILE...")
@click.option(
    "--signal",
    type=click.Choice(_TEXT_SIGNALS),
    default="post_text",
    show_default=True,
    help="Where the text comes from (the policy says which sources may be profiled).",
)
@click.pass_context
def observe_command(ctx: click.Context, files: tuple[str, ...], signal: str) -> None:
    """Profile your own text in FILE... ('-' reads standard input) into the store.

    Running this command on your own text is your opt-in to profiling it. Only counts
    are kept, never the text. Exit status 1 if personalization is paused or a file failed;
    the files that could be read are kept and the profile is not printed.
    """
    from edge_client.inputs import read_text_file
    from edge_client.policy import Purpose, Signal

    device = _open(ctx)
    if device.paused:
        click.echo("Personalization is paused: nothing was profiled ('resume' first).", err=True)
        sys.exit(1)
    failed = False
    try:
        device.grant(Purpose.PROFILING)
    except EdgeProfilerError as exc:
        _change_failed(exc)
    for path in files:
        try:
            text = read_text_file(path)
        except EdgeProfilerError as exc:
            click.echo(f"error: {exc}", err=True)
            failed = True
            continue
        try:
            device.observe(text, signal=Signal(signal))
        except StoreError as exc:  # in use past the wait, or the disk refused: not kept
            _change_failed(exc)
        except EdgeProfilerError as exc:
            click.echo(f"error: {exc}", err=True)
            failed = True
    if failed:  # results only after success: the errors above say what was not kept
        sys.exit(1)
    _saved_or_exit(device, device.profile().describe())


def _register_event_commands() -> None:
    from edge_client.behaviour.cli import event  # behaviour events: edgeprof store event ...

    store.add_command(event)


_register_event_commands()
