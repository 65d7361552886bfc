"""Coverage-guided fuzzing of one decoder with atheris (libFuzzer): the long, optional run.

The CI fuzz suite (``tests/fuzz``, hypothesis) mutates valid seeds with a fixed repertoire;
atheris instruments the project's code and mutates towards new branches instead. Any
exception other than :class:`~edge_client.errors.EdgeProfilerError` is a finding: libFuzzer
stops, prints it and writes the input as ``crash-<sha1>`` in the working directory.

    .venv/bin/pip install atheris        # optional: not a dependency of the project
    .venv/bin/python scripts/fuzz_atheris.py jsonl -max_total_time=600
    .venv/bin/python scripts/fuzz_atheris.py --list

The first argument is a kind of ``scripts/_hostile_targets.py`` (``--list`` names them);
the rest are libFuzzer options. Each kind's valid seeds start the corpus.
"""

from __future__ import annotations

import contextlib
import sys
import tempfile
from pathlib import Path

import _bench_common as common
import _hostile_targets as targets

common.use_repo_imports()


def main() -> int:
    """Fuzz the kind named on the command line until libFuzzer stops."""
    names = {k.name: k for k in targets.KINDS if k.decode is not None}
    if len(sys.argv) < 2 or sys.argv[1] in ("--list", "-h", "--help") or sys.argv[1] not in names:
        print(__doc__)
        print("kinds: " + ", ".join(sorted(names)))
        return 0 if len(sys.argv) > 1 and sys.argv[1] == "--list" else 2
    try:
        import atheris  # optional, imported only here
    except ImportError:
        print("atheris is not installed: .venv/bin/pip install atheris", file=sys.stderr)
        return 2
    kind = names[sys.argv.pop(1)]
    with atheris.instrument_imports(include=["edge_client", "fl_server"]):
        from edge_client.errors import EdgeProfilerError
    work = Path(tempfile.mkdtemp(prefix=f"atheris-{kind.name}-"))
    fixture = targets.Fixture.build(work / "fixture")
    corpus = work / "corpus"
    corpus.mkdir()
    for number, seed in enumerate(kind.seeds(fixture)):
        (corpus / f"seed-{number}").write_bytes(seed)
    decode = kind.decode
    assert decode is not None  # filtered above

    def one_input(data: bytes) -> None:
        with tempfile.TemporaryDirectory(dir=work) as folder:
            path = kind.place(fixture, data, Path(folder))
            with contextlib.suppress(EdgeProfilerError):  # a clean, located refusal
                decode(fixture, path)

    atheris.Setup([sys.argv[0], str(corpus), *sys.argv[1:]], one_input)
    atheris.Fuzz()
    return 0


if __name__ == "__main__":
    sys.exit(main())
