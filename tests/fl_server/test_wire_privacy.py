"""What devices send during real rounds holds no raw text, token, profile value or canary.

Each device's local text (an MBTI-format ``users.jsonl`` the ClientApp reads through its
``data`` setting) carries a unique canary. Two captures are checked byte by byte against
:func:`fl_server.deploy.leaks.device_secrets` (definitions in ``docs/deployment.md``):

* the Flower message layer: every reply Message of the real ClientApp, serialized the way
  Flower ships it (in-process grid, fast);
* the wire: every byte real ``flower-supernode`` processes send to ``flower-superlink``
  through a recording loopback proxy (plain HTTP for this run, so the bytes are readable).

Positive controls make sure each capture can fail: the replies' own metric names and
update arrays are found in it, and a planted canary is found by the same search.
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path

import numpy as np
import pytest
from flwr.app import ArrayRecord, ConfigRecord, Message, RecordDict

from edge_client.federated.app import app as client_app
from edge_client.federated.device import device_from_config, mbti_split
from edge_client.federated.examples import style_examples
from edge_client.models import ModelName
from edge_client.text.features import extract
from fl_server.app import run_server
from fl_server.deploy import DeploySettings, LaunchError, LocalDeployment, flower_executable
from fl_server.deploy.leaks import Secret, SecretKind, device_secrets, find_leaks
from fl_server.local_grid import LocalGrid
from fl_server.publish import ensure_signing_key
from fl_server.settings import ServerSettings

REPO = Path(__file__).resolve().parents[2]

_OPENERS = (
    "Yesterday at the lighthouse",
    "While spreading marmalade on toast",
    "Near the glacier trail",
    "After my accordion lesson",
    "Down by the harbour",
)
_MIDDLES = (
    "I compared the tide tables with my barometer readings",
    "my grandmother's porcelain teapot reminded me of summer",
    "the kayak club measured the currents twice",
    "I felt wonderfully calm and grateful for everything",
    "the cartographer explained how contour lines work",
)
_ENDINGS = ("and it was lovely.", "so I wrote it down.", "which surprised me!", "again.")


def _texts(index: int, canary: str) -> list[str]:
    """Return device ``index``'s texts (about 400 words) with ``canary`` in the third."""
    rng = np.random.default_rng(index)
    texts = []
    for number in range(6):
        sentences = [
            f"{_OPENERS[rng.integers(5)]} {_MIDDLES[rng.integers(5)]} {_ENDINGS[rng.integers(4)]}"
            for _ in range(5)
        ]
        if number == 2:
            sentences.insert(2, f"My locker code is {canary} and nobody knows it.")
        texts.append(" ".join(sentences))
    return texts


@pytest.fixture
def devices(tmp_path: Path) -> tuple[Path, list[list[str]], list[str]]:
    """Write an MBTI-format data folder of two devices with canaries; return it, texts, canaries."""
    rows: list[dict[str, object]] = []
    texts: list[list[str]] = []
    canaries: list[str] = []
    candidate = 0
    while len(rows) < 2:
        user = f"wire-user-{candidate}"
        candidate += 1
        if mbti_split(user):  # held-out users never train
            continue
        canary = f"CANARY-{secrets.token_hex(8)}"
        own = _texts(len(rows), canary)
        rows.append({"user_id": user, "type": "INTJ" if rows else "ENFP", "posts": own})
        texts.append(own)
        canaries.append(canary)
    folder = tmp_path / "data"
    (folder / "mbti").mkdir(parents=True)
    (folder / "mbti" / "users.jsonl").write_text(
        "".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8"
    )
    return folder, texts, canaries


def _secrets(texts: list[list[str]], canaries: list[str]) -> list[Secret]:
    found: list[Secret] = []
    for own, canary in zip(texts, canaries, strict=True):
        found += device_secrets(own, canaries=[canary])
    return found


def test_secrets_cover_every_kind(devices: tuple[Path, list[list[str]], list[str]]) -> None:
    """The patterns hold raw text, canaries, tokens, token keys and profile values."""
    _, texts, canaries = devices
    found = _secrets(texts, canaries)
    assert {s.kind for s in found} == set(SecretKind)
    words = {s.pattern for s in found if s.kind is SecretKind.TOKEN}
    vocabulary = {w.lower().encode() for part in _OPENERS + _MIDDLES for w in part.split()}
    assert len(words & vocabulary) >= 5
    assert all(canaries[0] not in s.label for s in found)  # labels never quote a secret


def test_message_layer_replies_hold_no_device_data(
    tmp_path: Path,
    devices: tuple[Path, list[list[str]], list[str]],
    make_policy: object,
) -> None:
    """Every serialized reply of the real ClientApp over 2 rounds is free of device data."""
    data, texts, canaries = devices
    policy = make_policy(min_cohort=2, sampling_rate=1.0)  # type: ignore[operator]  # conftest factory
    config: dict[str, bool | float | int | str] = {
        "policy": str(policy),
        "model-trust": str(tmp_path / "run" / "keys" / "model-signing.pub"),
        "output-dir": str(tmp_path / "run"),
        "num-rounds": 2,
        "seed": 3,
        "heldout-eval": False,
        "sampling-rate": 1.0,
        "data": str(data),
    }
    ensure_signing_key(tmp_path / "run" / "keys" / "model-signing.key")
    for index, own in enumerate(texts):  # the devices train on exactly these texts
        examples = device_from_config({"partition-id": index}, config).examples
        keys = set().union(*(c.unigrams for c in examples[ModelName.STYLE].counts))
        assert keys == set(extract(" ".join(own)).unigrams)
    grid = LocalGrid(client_app, [{"partition-id": i} for i in range(2)], config)
    result = run_server(grid, ServerSettings.from_run_config(config))
    assert result.completed_round == 2
    assert len(grid.replies) == 4 and not any(r.has_error() for r in grid.replies)
    streams = [LocalGrid.reply_bytes(r) for r in grid.replies]
    # Positive controls: the capture holds the replies' content in the clear.
    for reply, stream in zip(grid.replies, streams, strict=True):
        assert b"num_examples" in stream and b"loss" in stream
        arrays = reply.content["arrays"]
        assert isinstance(arrays, ArrayRecord)
        assert all(a.numpy().tobytes() in stream for a in arrays.values())
    planted = Message(
        RecordDict({"config": ConfigRecord({"note": f"x {canaries[0]} y"})}),
        dst_node_id=1,
        message_type="train",
    )
    secrets_ = _secrets(texts, canaries)
    assert find_leaks([LocalGrid.reply_bytes(planted)], secrets_)
    leaks = find_leaks(streams, secrets_)
    assert not leaks, "; ".join(map(str, leaks))


def _flower_installed() -> bool:
    try:
        flower_executable("flower-superlink")
        flower_executable("flower-supernode")
    except LaunchError:
        return False
    return True


@pytest.mark.skipif(not _flower_installed(), reason="flower-superlink/flower-supernode missing")
@pytest.mark.slow
@pytest.mark.timeout(150)
def test_wire_capture_holds_no_device_data(
    tmp_path: Path, devices: tuple[Path, list[list[str]], list[str]]
) -> None:
    """Every byte two real SuperNodes send to the SuperLink in 2 rounds is free of device data."""
    data, texts, canaries = devices
    settings = DeploySettings(
        app_dir=REPO,
        work_dir=tmp_path / "deploy",
        nodes=2,
        num_rounds=2,
        secure=False,
        capture=True,
        node_config={"data": str(data)},
        # The style job on the devices' MBTI-format texts (flwr run .'s default is interests).
        run_config={
            "seed": 4,
            "model": "style",
            "initial-model": "shipped",
            "learning-rate": 0.5,
            "server-learning-rate": 1.0,
        },
        run_timeout=100.0,
    )
    with LocalDeployment(settings) as deployment:
        report = deployment.run()
        proxy = deployment.proxy
        assert proxy is not None
        upstream = proxy.upstream()
    assert report.completed, report.status
    assert [r["status"] for r in report.rounds] == ["aggregated", "aggregated"]
    assert all(r["accepted"] == 2 for r in report.rounds)
    # The devices trained on the canary texts: the mean example count is theirs.
    expected = np.mean([len(style_examples(own, analytical=False)) for own in texts])
    assert all(r["num_examples"] == pytest.approx(expected) for r in report.rounds)
    sent = b"".join(upstream)
    # 2 rounds x 2 devices x a 32.8 kB update (8,193 float32) went through the proxy, as
    # plain HTTP.
    assert len(upstream) >= 2 and b"POST /" in sent and len(sent) > 2 * 2 * 4 * 8_193
    # Positive control: the devices' replies travel in the clear through the proxy.
    assert b"num_examples" in sent and b"loss" in sent
    secrets_ = _secrets(texts, canaries)
    leaks = find_leaks(upstream, secrets_)
    assert not leaks, "; ".join(map(str, leaks))
    assert deployment.supervisor.survivors() == []
