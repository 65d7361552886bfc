"""Tests of the shipped .tflite models in the real TensorFlow Lite runtime."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from edge_client.errors import ModelError
from edge_client.models import Architecture, LiteModel, ModelName, default_model_dir, load_model
from edge_client.runtime import runtime_info
from edge_client.text.features import TextCounts, extract

ANALYTICAL = "The data show a 12 percent increase; therefore the second option is cheaper per unit."
EMOTIONAL = "I love you all so much, I'm crying happy tears right now!! \U0001f62d\u2764"


@pytest.mark.parametrize("name", list(ModelName))
def test_model_files_are_small_and_have_signatures(name: ModelName) -> None:
    """Each shipped model is at most 2 MB (10^6 bytes each) and exposes its five signatures."""
    path = default_model_dir() / f"{name.value}.tflite"
    assert path.stat().st_size <= 2_000_000
    model = load_model(name)
    weights = model.get_weights()
    assert set(weights) == {"w", "b"}
    assert weights["b"].shape == (len(model.spec.labels),)


def test_style_model_is_sparse_linear() -> None:
    """The decision-style model has one weight per bucket and exposes its IDF."""
    model = load_model(ModelName.STYLE)
    assert model.spec.architecture is Architecture.SPARSE_LINEAR
    assert model.get_weights()["w"].shape == (model.spec.hash_dim, 1)
    assert model.idf().shape == (model.spec.hash_dim,)


def test_interest_model_trains_only_a_small_head() -> None:
    """The interest model is a frozen encoder with a head of at most 16,000 float32 values."""
    model = load_model(ModelName.INTERESTS)
    assert model.spec.architecture is Architecture.EMBEDDING_BAG
    weights = model.get_weights()
    assert sum(w.size for w in weights.values()) <= 16_000
    assert weights["w"].shape[1] == len(model.spec.labels)
    assert 0.2 < model.spec.temperature < 5.0
    with pytest.raises(ModelError, match="IDF"):
        model.idf()


def test_interest_terms_name_the_words_behind_an_interest() -> None:
    """The explain signature gives each word's push on each label; sports words push sports."""
    from edge_client.text.hashing import hash_token

    model = load_model(ModelName.INTERESTS)
    counts = extract("The pitcher threw a no-hitter and the Yankees won in the ninth inning.")
    idx, terms = model.terms(counts)
    assert terms.shape == (len(idx), len(model.spec.labels))
    sports = terms[:, model.spec.labels.index("sports")]
    dim = model.spec.hash_dim
    top = {int(idx[j]) for j in np.argsort(-sports)[:4]}
    assert top & {hash_token(w) & (dim - 1) for w in ("pitcher", "inning", "yankees")}
    assert sports.sum() > 0
    empty_idx, empty = model.terms(extract(""))
    assert empty_idx.size == 0 and empty.shape == (0, len(model.spec.labels))


@pytest.mark.parametrize("name", list(ModelName))
def test_model_cards_exist(name: ModelName) -> None:
    """Every model ships with a model card naming its metrics and how to rebuild it."""
    card = (default_model_dir() / f"{name.value}.md").read_text(encoding="utf-8")
    assert "Rebuild" in card and "Metrics" in card
    side = json.loads((default_model_dir() / f"{name.value}.json").read_text(encoding="utf-8"))
    assert (
        side["metrics"]["size_bytes"]
        == (default_model_dir() / f"{name.value}.tflite").stat().st_size
    )


def test_style_model_separates_clear_cases() -> None:
    """Plainly analytical text scores above plainly emotional text."""
    model = load_model(ModelName.STYLE)
    p = model.predict([extract(ANALYTICAL), extract(EMOTIONAL)])[:, 0]
    assert p.shape == (2,)
    assert np.all((p >= 0) & (p <= 1))
    assert p[0] > p[1]


def test_interest_model_outputs_a_distribution() -> None:
    """The interest head is a softmax over the taxonomy's labels and finds sports."""
    model = load_model(ModelName.INTERESTS)
    probs = model.predict(
        [extract("The pitcher threw a no-hitter and the Yankees won in the ninth inning.")]
    )
    assert probs.shape == (1, len(model.spec.labels))
    assert probs.sum() == pytest.approx(1.0, abs=1e-5)
    assert model.spec.labels[int(probs.argmax())] == "sports"


def test_interest_head_trains_on_device() -> None:
    """The interest model's train signature moves its head, and only its head."""
    model = load_model(ModelName.INTERESTS)
    counts = [extract("Our new puppy chews everything; the vet says crate training helps.")] * 4
    target = np.zeros((4, len(model.spec.labels)), np.float32)
    target[:, model.spec.labels.index("travel")] = 1.0  # an arbitrary label to learn
    before = model.predict(counts[:1])[0, model.spec.labels.index("travel")]
    losses = [model.train_step(counts, target, learning_rate=1.0) for _ in range(5)]
    assert losses[-1] < losses[0]
    assert model.predict(counts[:1])[0, model.spec.labels.index("travel")] > before


def test_train_signature_learns_on_device() -> None:
    """The model's own train signature lowers the loss on a batch (on-device learning)."""
    model = load_model(ModelName.STYLE)
    batch = [extract(EMOTIONAL)] * 4
    target = np.ones((4, 1), np.float32)  # pretend these writers are analytical
    before = float(model.predict(batch[:1])[0, 0])
    losses = [model.train_step(batch, target, learning_rate=0.5) for _ in range(5)]
    after = float(model.predict(batch[:1])[0, 0])
    assert losses[-1] < losses[0]
    assert after > before


def test_weights_round_trip_and_validation() -> None:
    """set_weights restores get_weights exactly; bad shapes and NaN are refused."""
    model = load_model(ModelName.STYLE)
    original = model.get_weights()
    x = [extract(ANALYTICAL)]
    p0 = model.predict(x)
    model.set_weights({"w": np.zeros_like(original["w"]), "b": np.zeros_like(original["b"])})
    assert model.predict(x)[0, 0] == pytest.approx(0.5)
    model.set_weights(original)
    assert np.allclose(model.predict(x), p0)
    with pytest.raises(ModelError, match="shape"):
        model.set_weights({"w": np.zeros((3, 1)), "b": original["b"]})
    bad = original["w"].copy()
    bad[0, 0] = np.nan
    with pytest.raises(ModelError, match="non-finite"):
        model.set_weights({"w": bad, "b": original["b"]})


def test_tampered_model_is_refused(tmp_path: Path) -> None:
    """A model whose bytes do not match the sidecar's SHA-256 is not loaded."""
    for suffix in (".tflite", ".json"):
        shutil.copy(default_model_dir() / f"style{suffix}", tmp_path / f"style{suffix}")
    data = bytearray((tmp_path / "style.tflite").read_bytes())
    data[len(data) // 2] ^= 0x01
    (tmp_path / "style.tflite").write_bytes(bytes(data))
    with pytest.raises(ModelError, match="SHA-256"):
        LiteModel(tmp_path / "style.tflite")


def test_missing_model_and_bad_sidecar(tmp_path: Path) -> None:
    """Missing files and malformed sidecars give errors naming the file and field."""
    with pytest.raises(ModelError, match="sidecar"):
        LiteModel(tmp_path / "style.tflite")
    side = json.loads((default_model_dir() / "style.json").read_text(encoding="utf-8"))
    del side["hash_dim"]
    (tmp_path / "style.json").write_text(json.dumps(side), encoding="utf-8")
    with pytest.raises(ModelError, match="hash_dim"):
        LiteModel(tmp_path / "style.tflite")


def test_runtime_is_reported() -> None:
    """The runtime adapter names its backend and version."""
    info = runtime_info()
    assert info.backend.value in {"litert", "tflite-runtime"}
    assert info.version


@pytest.mark.parametrize("name", list(ModelName))
def test_reused_runner_matches_the_runtime_runner(name: ModelName) -> None:
    """Reusing input tensors gives the runtime runner's outputs bit for bit, in any order.

    Batch and width change between calls (tensors are resized), and the weights change in
    between (a train step, set_weights), as they do on a device.
    """
    model = load_model(name)
    reference = model._interpreter.get_signature_runner("infer")  # the runtime's own runner
    texts = [ANALYTICAL, EMOTIONAL, "word " * 400 + ANALYTICAL, ""]

    def both(counts: list[TextCounts]) -> None:
        idx, val = model.spec.inputs(counts)
        want = reference(idx=idx, val=val)
        assert np.array_equal(model.predict(counts), want["probs"])
        assert np.array_equal(model.logits(counts), want["logits"])

    counts = [extract(t) for t in texts]
    for batch in ([counts[0]], [counts[2]], counts, [counts[1]], [counts[0]]):
        both(batch)
    target = np.zeros((1, len(model.spec.labels)), np.float32)
    model.train_step([counts[0]], target, learning_rate=0.5)
    both([counts[0]])
    weights = model.get_weights()
    model.set_weights({"w": weights["w"] * 0.5, "b": weights["b"] + 0.1})
    both(counts)
    both([counts[2]])
