"""Command-line options shared by the server's simulation commands (``simulate``, ``audit run``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

__all__ = ["cpus_option", "output_option", "policy_option", "seed_option"]

Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]
"""What ``click.option`` returns: it adds the option to a command function."""

policy_option = click.option(
    "--policy",
    default="default",
    show_default=True,
    help="Policy preset (default, research, strict) or policy TOML path.",
)
"""``--policy``: a preset name or a policy file."""

cpus_option = click.option(
    "--cpus",
    type=click.IntRange(min=1),
    default=2,
    show_default=True,
    help="CPUs for Ray; each virtual client uses one.",
)
"""``--cpus``: Ray's CPU budget."""


def seed_option(what: str) -> Decorator:
    """Return ``--seed`` (default 0) whose help says what it seeds."""
    return click.option("--seed", type=int, default=0, show_default=True, help=f"Seed of {what}.")


def output_option(prefix: str) -> Decorator:
    """Return ``--output`` whose default is ``runs/<prefix>-<time>``."""
    return click.option(
        "--output",
        type=click.Path(file_okay=False, path_type=Path),
        help=f"Output folder (default: runs/{prefix}-<time>).",
    )
