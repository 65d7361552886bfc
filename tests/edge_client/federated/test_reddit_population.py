"""The built-in reddit-top2013 population: it loads, matches its card, and refuses bad files."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest

from edge_client.federated.reddit_population import (
    PopulationError,
    default_population_dir,
    load_population,
)
from edge_client.models import ModelName, load_model


def test_population_matches_its_sidecar_and_the_interest_model() -> None:
    """Counts, labels and buckets agree with the sidecar and the shipped interest model."""
    population = load_population()
    sidecar = json.loads((default_population_dir() / "reddit.json").read_text(encoding="utf-8"))
    spec = load_model(ModelName.INTERESTS).spec
    assert population.labels == spec.labels
    assert population.hash_dim == spec.hash_dim
    assert population.train_devices == sidecar["train_devices"] >= 3000
    assert population.heldout_devices == sidecar["heldout_devices"] > 0
    assert int(population.post_labels.size) == sidecar["posts"]
    assert (default_population_dir() / "reddit.npz").stat().st_size < 4 * 1024 * 1024


def test_every_device_holds_one_to_three_groups_of_labelled_posts() -> None:
    """Each device has 1–4 posts (2+ for all but a few), one-hot targets, from 1–3 groups."""
    population = load_population()
    sizes = np.diff(population.device_offsets)
    assert sizes.min() >= 1 and sizes.max() <= 4 and np.mean(sizes >= 2) > 0.99
    for device in (0, 1, population.train_devices, population.devices - 1):
        examples = population.examples(device)
        assert 1 <= len(examples) <= 4
        assert np.all(examples.targets.sum(axis=1) == 1.0)
        assert 1 <= len(set(examples.targets.argmax(axis=1).tolist())) <= 3
        for counts in examples.counts:
            assert counts.unigrams and max(counts.unigrams) < population.hash_dim
            assert not counts.bigrams


def test_device_outside_the_population_is_refused() -> None:
    """An index past the last device is a PopulationError, not an IndexError."""
    population = load_population()
    with pytest.raises(PopulationError, match="outside the population"):
        population.examples(population.devices)


def _copy(tmp_path: Path) -> Path:
    folder = tmp_path / "population"
    shutil.copytree(default_population_dir(), folder)
    return folder


def test_tampered_npz_is_refused(tmp_path: Path) -> None:
    """One changed byte in the npz fails the SHA-256 check of the sidecar."""
    folder = _copy(tmp_path)
    blob = bytearray((folder / "reddit.npz").read_bytes())
    blob[len(blob) // 2] ^= 0xFF
    (folder / "reddit.npz").write_bytes(bytes(blob))
    with pytest.raises(PopulationError, match=r"reddit\.npz: SHA-256 does not match"):
        load_population(folder)


def test_oversized_npz_is_refused_before_reading(tmp_path: Path) -> None:
    """A file over the size bound is refused by its size (a sparse file: nothing is read)."""
    folder = _copy(tmp_path)
    with (folder / "reddit.npz").open("r+b") as handle:
        handle.truncate(64 * 1024 * 1024)
    with pytest.raises(PopulationError, match="more than the limit"):
        load_population(folder)


def test_sidecar_with_a_wrong_field_is_named(tmp_path: Path) -> None:
    """A sidecar field of the wrong type is reported by name and file."""
    folder = _copy(tmp_path)
    path = folder / "reddit.json"
    raw = json.loads(path.read_text(encoding="utf-8"))
    raw["train_devices"] = "many"
    path.write_text(json.dumps(raw), encoding="utf-8")
    with pytest.raises(PopulationError, match=r"reddit\.json: field 'train_devices'"):
        load_population(folder)


def _rewrite(folder: Path, name: str, array: np.ndarray) -> None:
    """Replace one array of the npz and update the sidecar's SHA-256 (hostile but consistent)."""
    path = folder / "reddit.npz"
    with zipfile.ZipFile(path) as archive:
        members = {info.filename: archive.read(info) for info in archive.infolist()}
    member = io.BytesIO()
    np.lib.format.write_array(member, array, allow_pickle=False)
    members[f"{name}.npy"] = member.getvalue()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for member_name, data in members.items():
            archive.writestr(member_name, data)
    path.write_bytes(buffer.getvalue())
    side = folder / "reddit.json"
    raw = json.loads(side.read_text(encoding="utf-8"))
    raw["sha256"] = hashlib.sha256(buffer.getvalue()).hexdigest()
    side.write_text(json.dumps(raw), encoding="utf-8")


@pytest.mark.parametrize(
    ("name", "make", "message"),
    [
        ("buckets", lambda a: np.full_like(a, 65535), "'buckets' indexes past hash_dim"),
        ("post_labels", lambda a: np.full_like(a, 200), "'post_labels' indexes past"),
        ("device_offsets", lambda a: a[::-1].copy(), "'device_offsets' must rise"),
        ("counts", lambda a: a.astype(np.float64), "'counts' must be 1-D uint16"),
    ],
)
def test_hostile_arrays_are_refused_with_their_name(
    tmp_path: Path, name: str, make: object, message: str
) -> None:
    """Arrays out of range, out of order or of the wrong dtype fail with the array's name."""
    folder = _copy(tmp_path)
    with np.load(folder / "reddit.npz", allow_pickle=False) as loaded:
        original = loaded[name]
    _rewrite(folder, name, make(original))  # type: ignore[operator]  # the parametrized lambdas
    with pytest.raises(PopulationError, match=message):
        load_population(folder)
