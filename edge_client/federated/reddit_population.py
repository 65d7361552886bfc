"""The built-in population of the main federated job: virtual devices from reddit-top2013.

``edge_client/assets/population/reddit.npz`` holds, for every virtual device, the interest
model's own inputs of the posts its person wrote (hashed unigram counts already folded into
the model's buckets) and each post's interest label: derived data, never text
(``scripts/build_population.py`` builds it; the card is ``README.md`` beside it). The
sidecar ``reddit.json`` holds the counts, the held-out split and the SHA-256 of the npz,
checked on every load. The loader is bounded before it parses: file sizes, array sizes,
dtypes, offsets and value ranges are checked, and every failure is a
:class:`PopulationError` naming the file and the field.

Devices ``0 .. train_devices - 1`` train; the rest are held out (they never train; the
simulation scores the global model on them).
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from edge_client.federated.errors import FederatedError
from edge_client.federated.examples import LocalExamples
from edge_client.models import ModelName
from edge_client.text.features import TextCounts

__all__ = [
    "POPULATION_DIR",
    "POPULATION_FORMAT",
    "Population",
    "PopulationError",
    "load_population",
]

POPULATION_DIR = "edge_client/assets/population"
"""Where the population lives, relative to the repository root."""
POPULATION_FORMAT = 1
"""Version of the npz layout this loader reads."""

_MAX_SIDECAR_BYTES = 64 * 1024
_MAX_NPZ_BYTES = 16 * 1024 * 1024
_MAX_DEVICES = 1_000_000
_MAX_POSTS = 1_000_000
_MAX_ENTRIES = 32_000_000
_MAX_POSTS_PER_DEVICE = 1_000
_ARRAYS = {
    "device_offsets": np.int32,
    "post_offsets": np.int32,
    "post_labels": np.uint8,
    "buckets": np.uint16,
    "counts": np.uint16,
}


class PopulationError(FederatedError):
    """The built-in population is missing, tampered with or malformed."""


@dataclass(frozen=True)
class Population:
    """Virtual devices with the interest model's inputs of their posts.

    Attributes
    ----------
    labels
        The interest model's labels (a post's label indexes them).
    hash_dim
        The interest model's buckets.
    train_devices, heldout_devices
        How many devices train and how many are held out.
    device_offsets, post_offsets, post_labels, buckets, counts
        CSR layout: device ``d`` wrote posts ``device_offsets[d]:device_offsets[d+1]``;
        post ``p`` has buckets and counts ``post_offsets[p]:post_offsets[p+1]`` and label
        ``post_labels[p]``.
    """

    labels: tuple[str, ...]
    hash_dim: int
    train_devices: int
    heldout_devices: int
    device_offsets: npt.NDArray[np.int32]
    post_offsets: npt.NDArray[np.int32]
    post_labels: npt.NDArray[np.uint8]
    buckets: npt.NDArray[np.uint16]
    counts: npt.NDArray[np.uint16]

    @property
    def devices(self) -> int:
        """All devices, training and held out."""
        return self.train_devices + self.heldout_devices

    def examples(self, device: int) -> LocalExamples:
        """Return device ``device``'s interest examples (one per post, one-hot targets).

        Raises
        ------
        PopulationError
            When ``device`` is outside the population.
        """
        if not 0 <= device < self.devices:
            raise PopulationError(f"device {device} outside the population of {self.devices}")
        first, last = int(self.device_offsets[device]), int(self.device_offsets[device + 1])
        posts: list[TextCounts] = []
        for post in range(first, last):
            start, end = int(self.post_offsets[post]), int(self.post_offsets[post + 1])
            keys = self.buckets[start:end].tolist()
            values = self.counts[start:end].astype(np.float64).tolist()
            unigrams = dict(zip(keys, values, strict=True))
            posts.append(TextCounts(words=float(sum(values)), unigrams=unigrams))
        targets = np.zeros((len(posts), len(self.labels)), np.float32)
        targets[np.arange(len(posts)), self.post_labels[first:last].astype(np.intp)] = 1.0
        return LocalExamples(ModelName.INTERESTS, tuple(posts), targets)

    def heldout(self) -> tuple[LocalExamples, ...]:
        """Return the held-out devices' examples, in device order."""
        return tuple(self.examples(d) for d in range(self.train_devices, self.devices))


def default_population_dir() -> Path:
    """Directory of the population packaged with :mod:`edge_client`."""
    return Path(str(resources.files("edge_client") / "assets" / "population"))


def _read_bounded(path: Path, limit: int) -> bytes:
    try:
        size = path.stat().st_size
        if size > limit:
            raise PopulationError(f"{path}: {size} bytes, more than the limit of {limit}")
        return path.read_bytes()[: limit + 1]
    except OSError as exc:
        raise PopulationError(f"{path}: cannot read ({type(exc).__name__})") from None


def _field(raw: dict[str, Any], path: Path, name: str, kind: type, low: int = 0) -> Any:
    value = raw.get(name)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise PopulationError(f"{path}: field {name!r} missing or not a {kind.__name__}")
    if isinstance(value, int) and value < low:
        raise PopulationError(f"{path}: field {name!r} must be at least {low}")
    return value


def _arrays(path: Path, blob: bytes) -> dict[str, npt.NDArray[Any]]:
    """Open the npz without pickles, bounding every member before reading it."""
    out: dict[str, npt.NDArray[Any]] = {}
    try:
        with zipfile.ZipFile(io.BytesIO(blob)) as archive:
            members = {info.filename: info for info in archive.infolist()}
            if set(members) != {f"{name}.npy" for name in _ARRAYS}:
                raise PopulationError(f"{path}: members {sorted(members)} are not the expected")
            for name, dtype in _ARRAYS.items():
                info = members[f"{name}.npy"]
                limit = _MAX_ENTRIES * np.dtype(dtype).itemsize + 1024
                if info.file_size > limit:
                    raise PopulationError(f"{path}: array {name!r} larger than {limit} bytes")
                with archive.open(info) as member:
                    array = np.lib.format.read_array(
                        io.BytesIO(member.read(limit + 1)), allow_pickle=False
                    )
                if array.dtype != np.dtype(dtype) or array.ndim != 1:
                    raise PopulationError(
                        f"{path}: array {name!r} must be 1-D {np.dtype(dtype).name}, got "
                        f"{array.ndim}-D {array.dtype}"
                    )
                out[name] = array
    except PopulationError:
        raise
    except (zipfile.BadZipFile, ValueError, EOFError, OSError) as exc:
        raise PopulationError(f"{path}: unreadable npz ({type(exc).__name__})") from None
    return out


def _offsets(path: Path, name: str, values: npt.NDArray[np.int32], end: int) -> None:
    if values.size < 2 or values[0] != 0 or values[-1] != end or np.any(np.diff(values) < 0):
        raise PopulationError(f"{path}: array {name!r} must rise from 0 to {end}")


def load_population(directory: Path | None = None) -> Population:
    """Load and check the built-in population (``reddit.npz`` and its sidecar).

    Parameters
    ----------
    directory
        Folder with ``reddit.npz`` and ``reddit.json`` (default: the packaged one).

    Returns
    -------
    Population
        The checked population.

    Raises
    ------
    PopulationError
        Naming the file and field, when a file is missing, too large, does not match its
        SHA-256, or holds arrays of the wrong type, size or range.
    """
    return _load(str(directory or default_population_dir()))


@lru_cache(maxsize=2)
def _load(directory: str) -> Population:
    folder = Path(directory)
    side_path, npz_path = folder / "reddit.json", folder / "reddit.npz"
    try:
        raw = json.loads(_read_bounded(side_path, _MAX_SIDECAR_BYTES))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise PopulationError(f"{side_path}: not a JSON document") from None
    if not isinstance(raw, dict):
        raise PopulationError(f"{side_path}: must be a JSON object")
    if raw.get("format") != POPULATION_FORMAT:
        raise PopulationError(f"{side_path}: field 'format' must be {POPULATION_FORMAT}")
    labels = _field(raw, side_path, "labels", list)
    if not 2 <= len(labels) <= 255 or not all(isinstance(x, str) for x in labels):
        raise PopulationError(f"{side_path}: field 'labels' must list 2..255 names")
    hash_dim = _field(raw, side_path, "hash_dim", int, 1)
    if hash_dim & (hash_dim - 1) or hash_dim > 1 << 16:
        raise PopulationError(f"{side_path}: field 'hash_dim' must be a power of two <= 65536")
    train = _field(raw, side_path, "train_devices", int, 1)
    heldout = _field(raw, side_path, "heldout_devices", int, 1)
    if train + heldout > _MAX_DEVICES:
        raise PopulationError(f"{side_path}: more than {_MAX_DEVICES} devices")
    digest = _field(raw, side_path, "sha256", str)
    blob = _read_bounded(npz_path, _MAX_NPZ_BYTES)
    if hashlib.sha256(blob).hexdigest() != digest:
        raise PopulationError(f"{npz_path}: SHA-256 does not match its sidecar; refusing to load")
    arrays = _arrays(npz_path, blob)
    posts = arrays["post_labels"].size
    if posts > _MAX_POSTS or arrays["buckets"].size != arrays["counts"].size:
        raise PopulationError(f"{npz_path}: arrays 'buckets' and 'counts' differ in size")
    _offsets(npz_path, "device_offsets", arrays["device_offsets"], posts)
    _offsets(npz_path, "post_offsets", arrays["post_offsets"], arrays["buckets"].size)
    if arrays["device_offsets"].size != train + heldout + 1:
        raise PopulationError(f"{npz_path}: array 'device_offsets' does not match the sidecar")
    if np.any(np.diff(arrays["device_offsets"]) > _MAX_POSTS_PER_DEVICE):
        raise PopulationError(f"{npz_path}: a device has over {_MAX_POSTS_PER_DEVICE} posts")
    if posts and int(arrays["post_labels"].max()) >= len(labels):
        raise PopulationError(f"{npz_path}: array 'post_labels' indexes past the labels")
    if arrays["buckets"].size and int(arrays["buckets"].max()) >= hash_dim:
        raise PopulationError(f"{npz_path}: array 'buckets' indexes past hash_dim")
    return Population(
        labels=tuple(labels),
        hash_dim=hash_dim,
        train_devices=train,
        heldout_devices=heldout,
        device_offsets=arrays["device_offsets"],
        post_offsets=arrays["post_offsets"],
        post_labels=arrays["post_labels"],
        buckets=arrays["buckets"],
        counts=arrays["counts"],
    )
