"""``edgeprof select``: pick content from a catalog on this device, with reasons."""

from __future__ import annotations

import json
from pathlib import Path

import click

from edge_client.console import ExitCode, fail
from edge_client.errors import EdgeProfilerError

__all__ = ["select"]


@click.command("select")
@click.option(
    "--catalog",
    "catalog_file",
    type=click.Path(dir_okay=False),
    help="Catalog (JSON lines; see docs/selection.md). Default: the bundled sample catalog.",
)
@click.option(
    "-k",
    "k",
    type=click.IntRange(1, 1000),
    default=5,
    show_default=True,
    help="How many items to pick.",
)
@click.option(
    "--profile",
    "profile_file",
    type=click.Path(dir_okay=False),
    help="Use this profile JSON (from 'edgeprof profile --json'; '-' for stdin) "
    "instead of the profile stored on the device.",
)
@click.option(
    "--dir",
    "data_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Device data directory (default: $EDGEPROF_HOME, else ~/.local/share/edge-profiler).",
)
@click.option("--seed", type=int, default=None, help="Seed the exploration draw (reproducible).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of readable text.")
def select(
    catalog_file: str | None,
    k: int,
    profile_file: str | None,
    data_dir: Path | None,
    seed: int | None,
    as_json: bool,
) -> None:
    """Pick up to K items of a catalog for you, each with the reason it was shown.

    Running the command is your opt-in to personalization for this selection. With the
    device's stored profile, the pick is recorded in its caps (frequency, fatigue). Exit
    status 1 for a bad catalog or profile file, 2 when the device's store cannot open.
    """
    import numpy as np

    from edge_client.policy import Purpose, load_preset
    from edge_client.policy.engine import PolicyEngine
    from edge_client.policy.presets import Preset
    from edge_client.profile import Profile
    from edge_client.selection import PersonalizedFeed, Selector, load_catalog, load_sample_catalog
    from edge_client.selection.state import SelectionState
    from edge_client.store.cli import default_home
    from edge_client.taxonomy import load_taxonomy

    rng = np.random.default_rng(seed)
    try:
        catalog = load_catalog(Path(catalog_file)) if catalog_file else load_sample_catalog()
        if profile_file is not None:
            from edge_client.inputs import read_json_file

            source = "stdin" if profile_file == "-" else profile_file
            profile = Profile.from_dict(read_json_file(profile_file), source=source)
            taxonomy = load_taxonomy()
            engine = PolicyEngine(load_preset(Preset.DEFAULT), taxonomy)
            consent = engine.consent_state([Purpose.PERSONALIZATION])
            selection = Selector(engine, consent=consent, taxonomy=taxonomy, rng=rng).select(
                profile, catalog, k=k
            )
        else:
            from edge_client.device import Device

            try:
                device = Device(data_dir or default_home())
            except EdgeProfilerError as exc:
                fail(str(exc), ExitCode.USAGE)
            if not device.report.ok:
                click.echo(device.report.describe(), err=True)
            if not device.paused:
                device.grant(Purpose.PERSONALIZATION)
            kept = device.selection_state()
            state = SelectionState.from_dict(kept) if kept else None
            feed = PersonalizedFeed(device.profiler, state=state, rng=rng)
            selection = feed.select(catalog, k=k)
            device.keep_selection_state(feed.state.to_dict())
    except EdgeProfilerError as exc:
        fail(str(exc), ExitCode.INPUT)
    if as_json:
        click.echo(json.dumps(selection.to_dict(), ensure_ascii=False))
    else:
        click.echo(selection.explain())
