"""``edgeprof``: the command line of edge-profiler.

Every command follows :mod:`edge_client.console`: results on stdout, diagnostics on
stderr, nothing on stdout after an error, exit status 0 (ok), 1 (some input bad) or 2
(usage or setup), and library log lines only with ``-v``.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import sys
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

import click

from edge_client.console import ExitCode, exit_code_for, fail, verbosity_options
from edge_client.errors import EdgeProfilerError
from edge_client.inputs import JsonlRecord, iter_jsonl, read_text_file

if TYPE_CHECKING:
    from edge_client.profiler import EdgeProfiler

__all__ = ["main"]


def _report(message: str) -> None:
    click.echo(f"error: {message}", err=True)


# Commands living in other packages, imported only when used (start-up stays fast and the
# federated commands need the 'federated' extra only when they run).
_EXTRA_MODULES = {"federated": ("flwr", "matplotlib", "psutil")}
_LAZY_COMMANDS = {
    "policy": ("edge_client.policy.cli", "policy", None),
    "select": ("edge_client.selection.cli", "select", None),
    "store": ("edge_client.store.cli", "store", None),
    "simulate": ("fl_server.cli", "simulate", "federated"),
    "audit": ("fl_server.audit.cli", "audit", "federated"),
    "flower": ("fl_server.cli", "flower", "federated"),
    "deploy": ("fl_server.deploy_cli", "deploy", "federated"),
}


class _LazyGroup(click.Group):
    """A click group whose sub-commands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *_LAZY_COMMANDS])

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in _LAZY_COMMANDS:
            return super().get_command(ctx, cmd_name)
        module, attr, extra = _LAZY_COMMANDS[cmd_name]
        missing = [
            m for m in _EXTRA_MODULES.get(extra or "", ()) if not importlib.util.find_spec(m)
        ]
        if extra is not None and missing:
            return _missing_extra(cmd_name, extra, ImportError(name=missing[0]))
        try:
            command = getattr(importlib.import_module(module), attr)
        except ImportError as exc:
            if extra is None:
                raise
            return _missing_extra(cmd_name, extra, exc)
        if not isinstance(command, click.Command):  # pragma: no cover - wiring error
            raise TypeError(f"{module}.{attr} is not a click command")
        return command


def _missing_extra(name: str, extra: str, exc: ImportError) -> click.Command:
    """A stand-in command that accepts anything and explains which extra to install."""

    def refuse(args: tuple[str, ...]) -> None:
        del args  # whatever was asked, the answer is the same
        fail(
            f"'edgeprof {name}' needs the '{extra}' extra: pip install 'edge-profiler[{extra}]'"
            f" ({exc.name or exc} is missing)",
            ExitCode.USAGE,
        )

    return click.Command(
        name,
        callback=refuse,
        params=[click.Argument(["args"], nargs=-1, type=click.UNPROCESSED)],
        context_settings={"ignore_unknown_options": True, "help_option_names": []},
        help=f"(needs the '{extra}' extra)",
    )


class _Main(_LazyGroup):
    """The ``edgeprof`` group: an error that escapes a command ends it the documented way."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except EdgeProfilerError as exc:
            fail(str(exc), exit_code_for(exc))
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(130)


@click.group(cls=_Main, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="edge-profiler", prog_name="edgeprof")
@verbosity_options
def main() -> None:
    """Privacy-preserving on-device profiling: decision style and interests, locally.

    Results go to standard output and diagnostics to standard error; library log lines
    appear only with -v. Exit status: 0 ok, 1 some input was bad (the rest was done),
    2 usage or setup error.
    """


_POLICY_OPTION = click.option(
    "--policy",
    "policy_file",
    type=click.Path(dir_okay=False),
    help="Policy preset name (default, strict, research) or policy TOML to enforce "
    "(default: the 'default' preset). Devices take signed bundles through PolicyGuard; "
    "this option is for trying a policy out.",
)


def _profiler(policy_file: str | None) -> EdgeProfiler:
    """An EdgeProfiler for the person running the command on their own text.

    Running ``edgeprof profile`` on one's own files is the opt-in to profiling them, so
    the profiling purpose is granted; nothing else is.
    """
    from edge_client.policy import Purpose, load_policy
    from edge_client.profiler import EdgeProfiler

    policy = load_policy(policy_file) if policy_file else None
    return EdgeProfiler(policy=policy, consent=[Purpose.PROFILING])


@main.command("profile")
@click.argument("files", nargs=-1, required=True, metavar="FILE...")
@click.option(
    "--jsonl",
    is_flag=True,
    help="FILE holds JSON lines, each with a 'text' field; "
    "write one JSON profile per line, in order.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of readable text.")
@click.option("--explain", is_flag=True, help="Also say which signals drove the profile.")
@_POLICY_OPTION
def profile_command(
    files: tuple[str, ...], jsonl: bool, as_json: bool, explain: bool, policy_file: str | None
) -> None:
    """Profile the text in FILE... ('-' reads standard input).

    Without --jsonl all files are one person's texts and give one profile; if any file
    cannot be read, each problem is reported on stderr and no profile is printed (exit
    status 1). With --jsonl every line is profiled on its own; a bad line is reported
    (stderr and an "error" record) with its line number and the rest go on (exit status 1).
    Running the command on your own text is your opt-in to profiling it.
    """
    try:
        profiler = _profiler(policy_file)
    except EdgeProfilerError as exc:
        fail(str(exc), ExitCode.USAGE)
    if jsonl:
        sys.exit(_profile_jsonl(profiler, files))
    failed = False
    for path in files:
        try:
            profiler.observe(read_text_file(path))
        except EdgeProfilerError as exc:
            _report(str(exc))
            failed = True
    if failed:  # a profile of only some of the texts would look complete: print none
        sys.exit(ExitCode.INPUT)
    result = profiler.profile()
    if as_json:
        payload = result.to_dict()
        if explain:
            payload["explanation"] = profiler.explain().text().splitlines()
        click.echo(json.dumps(payload, ensure_ascii=False))
    else:
        click.echo(result.describe())
        if explain:
            click.echo(profiler.explain().text())


def _profile_jsonl(profiler: EdgeProfiler, files: tuple[str, ...]) -> int:
    status = 0

    def bad_line(line: int, message: str) -> None:
        nonlocal status
        _report(message)
        click.echo(json.dumps({"line": line, "error": message}))
        status = ExitCode.INPUT

    for path in files:
        try:
            # Streamed: one bad line (too deep, too long, not JSON) is that line's error
            # record; every line before and after it is still profiled.
            for record in iter_jsonl(path):
                if not isinstance(record, JsonlRecord):
                    bad_line(record.line, record.message)
                    continue
                profiler.reset()
                try:
                    profiler.observe(record.text)
                    result = profiler.profile().to_dict()
                except EdgeProfilerError as exc:
                    bad_line(record.line, f"{path}:{record.line}: {exc}")
                    continue
                out: dict[str, object] = {"line": record.line}
                if record.id is not None:
                    out["id"] = record.id
                out.update(result)
                click.echo(json.dumps(out, ensure_ascii=False))
        except EdgeProfilerError as exc:
            _report(str(exc))
            status = ExitCode.INPUT
    return status


@main.command("demo")
@click.option("--explain/--no-explain", default=True, help="Say which signals drove each profile.")
@_POLICY_OPTION
def demo_command(explain: bool, policy_file: str | None) -> None:
    """Profile the bundled sample texts (no data, no network): the quickest look."""
    try:
        profiler = _profiler(policy_file)
    except EdgeProfilerError as exc:
        fail(str(exc), ExitCode.USAGE)
    samples = resources.files("edge_client") / "assets" / "samples"
    for sample in sorted(samples.iterdir(), key=lambda p: p.name):
        if not sample.name.endswith(".txt"):
            continue
        profiler.reset()
        profiler.observe(sample.read_text(encoding="utf-8"))
        click.echo(f"== {sample.name} ==")
        click.echo(profiler.profile().describe())
        if explain:
            click.echo(profiler.explain().text())
        click.echo("")


@main.command("info")
def info_command() -> None:
    """Show the runtime in use and the shipped models with their metrics."""
    from edge_client.models import ModelName, default_model_dir
    from edge_client.runtime import runtime_info

    try:
        rt = runtime_info()
    except EdgeProfilerError as exc:
        fail(str(exc), ExitCode.USAGE)
    click.echo(f"runtime: {rt.backend.value} {rt.version}")
    for name in ModelName:
        side = default_model_dir() / f"{name.value}.json"
        meta = json.loads(Path(side).read_text(encoding="utf-8"))
        size = (default_model_dir() / f"{name.value}.tflite").stat().st_size
        click.echo(
            f"model {name.value} v{meta['version']}: {size:,} bytes, "
            f"metrics {json.dumps(meta.get('metrics', {}))}"
        )
