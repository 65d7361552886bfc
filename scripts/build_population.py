"""Build the built-in population of virtual devices from reddit-top2013 (derived data only).

Reads ``../shared/data/reddit-top2013/test.jsonl`` (public domain, ODC PDDL 1.0): the split
the shipped interest encoder never trained on. Every post becomes the interest model's own
input, hashed unigram counts folded into the model's ``hash_dim`` buckets
(:func:`edge_client.text.features.extract`, then ``key & (hash_dim - 1)``, exactly what
:meth:`edge_client.models.ModelSpec.row` feeds the model), plus its interest label. No
text, no token, no post id is written. Posts are dealt, seeded, to virtual people who
each write about one to three interest groups (two to four posts each); the last devices
are held out (they never train, the simulation scores the model on them).

Writes ``edge_client/assets/population/reddit.npz``, its sidecar ``reddit.json`` (counts,
SHA-256 of the npz, held-out split) and the card ``README.md``. The rebuild is
deterministic: the same data and seed give byte-identical files.

Usage: ``python scripts/build_population.py [--data ../shared/data] [--seed 10]``
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import sys
import zipfile
from collections import defaultdict
from pathlib import Path

import numpy as np

from edge_client.federated.reddit_population import (
    POPULATION_DIR,
    POPULATION_FORMAT,
)
from edge_client.models import ModelName, load_model
from edge_client.text.features import extract

_ROOT = Path(__file__).resolve().parent.parent
_GROUP_WEIGHTS = (0.45, 0.35, 0.20)  # one, two or three interest groups per person
_HELDOUT_SHARE = 0.12


def _read_posts(path: Path, labels: list[str]) -> dict[int, list[tuple[str, str]]]:
    """Return the posts by label index, each as ``(id, text)``, in file order."""
    index = {label: i for i, label in enumerate(labels)}
    group_of: dict[str, str] = {}
    with (path.parent / "labels.tsv").open(encoding="utf-8") as handle:
        next(handle)
        for line in handle:
            parts = line.rstrip("\n").split("\t")
            group_of[parts[0]] = parts[1]
    posts: dict[int, list[tuple[str, str]]] = defaultdict(list)
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            group = group_of[str(row["label"])]
            if group not in index:
                raise SystemExit(f"{path}: group {group!r} is not an interest label")
            posts[index[group]].append((str(row["id"]), str(row["text"])))
    return posts


def _deal(
    posts: dict[int, list[tuple[str, str]]], rng: np.random.Generator
) -> list[list[tuple[int, str]]]:
    """Deal the posts to people: each person gets 2–4 posts from 1–3 groups."""
    pools: dict[int, list[str]] = {}
    for g, items in sorted(posts.items()):
        texts = [text for _, text in sorted(items)]
        pools[g] = [texts[i] for i in rng.permutation(len(texts))]
    people: list[list[tuple[int, str]]] = []
    while True:
        left = {g: len(p) for g, p in pools.items() if p}
        if not left:
            break
        groups = sorted(left)
        want = int(rng.choice(3, p=_GROUP_WEIGHTS)) + 1
        weights = np.array([left[g] for g in groups], np.float64)
        chosen = rng.choice(
            groups, size=min(want, len(groups)), replace=False, p=weights / weights.sum()
        )
        size = int(rng.integers(2, 5))
        person: list[tuple[int, str]] = []
        for slot in range(max(size, len(chosen))):
            g = int(chosen[slot % len(chosen)])
            if pools[g]:
                person.append((g, pools[g].pop()))
        people.append(person)
    order = rng.permutation(len(people))
    return [people[i] for i in order]


def _npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    """Return a deterministic compressed npz (fixed member order and timestamps)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name in sorted(arrays):
            member = io.BytesIO()
            np.lib.format.write_array(
                member, np.ascontiguousarray(arrays[name]), allow_pickle=False
            )
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, member.getvalue(), compresslevel=9)
    return buffer.getvalue()


def build(data: Path, seed: int, out: Path) -> dict[str, object]:
    """Build the population into ``out``; return the sidecar's fields."""
    model = load_model(ModelName.INTERESTS)
    labels = list(model.spec.labels)
    dim = model.spec.hash_dim
    source = data / "reddit-top2013" / "test.jsonl"
    people = _deal(_read_posts(source, labels), np.random.default_rng(seed))
    device_offsets = [0]
    post_offsets = [0]
    post_labels: list[int] = []
    buckets: list[np.ndarray] = []
    counts: list[np.ndarray] = []
    for person in people:
        for label, text in person:
            unigrams = extract(text).unigrams
            keys = np.fromiter(unigrams.keys(), np.int64, len(unigrams)) & (dim - 1)
            values = np.fromiter(unigrams.values(), np.float64, len(unigrams))
            folded, where = np.unique(keys, return_inverse=True)
            summed = np.bincount(where, weights=values, minlength=len(folded))
            buckets.append(folded.astype(np.uint16))
            counts.append(np.minimum(summed, 65535).astype(np.uint16))
            post_offsets.append(post_offsets[-1] + len(folded))
            post_labels.append(label)
        device_offsets.append(len(post_labels))
    arrays: dict[str, np.ndarray] = {
        "device_offsets": np.array(device_offsets, np.int32),
        "post_offsets": np.array(post_offsets, np.int32),
        "post_labels": np.array(post_labels, np.uint8),
        "buckets": np.concatenate(buckets),
        "counts": np.concatenate(counts),
    }
    blob = _npz_bytes(arrays)
    out.mkdir(parents=True, exist_ok=True)
    (out / "reddit.npz").write_bytes(blob)
    heldout = round(len(people) * _HELDOUT_SHARE)
    per_label = np.bincount(arrays["post_labels"], minlength=len(labels))
    groups_per_person = [len({g for g, _ in p}) for p in people]
    sidecar: dict[str, object] = {
        "format": POPULATION_FORMAT,
        "name": "reddit-top2013",
        "model": "interests",
        "model_version": model.spec.version,
        "hash_dim": dim,
        "labels": labels,
        "devices": len(people),
        "train_devices": len(people) - heldout,
        "heldout_devices": heldout,
        "posts": len(post_labels),
        "entries": int(arrays["buckets"].size),
        "seed": seed,
        "source": "reddit-top2013/test.jsonl (ODC PDDL 1.0)",
        "sha256": hashlib.sha256(blob).hexdigest(),
        "size_bytes": len(blob),
        "posts_per_label": {labels[i]: int(n) for i, n in enumerate(per_label)},
        "groups_per_device": {str(k): groups_per_person.count(k) for k in (1, 2, 3)},
    }
    (out / "reddit.json").write_text(json.dumps(sidecar, indent=2) + "\n", encoding="utf-8")
    return sidecar


def main(argv: list[str] | None = None) -> int:
    """Build the population and print its counts."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=_ROOT.parent / "shared" / "data")
    parser.add_argument("--seed", type=int, default=10)
    parser.add_argument("--out", type=Path, default=_ROOT / POPULATION_DIR)
    args = parser.parse_args(argv)
    if not (args.data / "reddit-top2013" / "test.jsonl").is_file():
        print(f"{args.data}: no reddit-top2013/test.jsonl", file=sys.stderr)
        return 2
    sidecar = build(args.data, args.seed, args.out)
    keys = ("devices", "train_devices", "heldout_devices", "posts", "entries", "size_bytes")
    for key in keys:
        print(f"{key:>16}: {sidecar[key]}")
    print(f"{'groups/device':>16}: {sidecar['groups_per_device']}")
    print(f"{'sha256':>16}: {sidecar['sha256']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
