"""Benchmark secure aggregation: cost beside a plain round, encoding error, accuracy at equal ε.

Everything runs through the real ClientApp and the real policy strategy on the in-process
grid (so the numbers are about the protocol, not Ray or HTTP start-up), in one process:

* **cost** (``--devices``, default 100 and 1000 virtual devices, style model, the strict
  preset with sampling rate 1 so every device joins): one plain round (clipped float
  updates, central noise) and one secure round (five stages, distributed noise) on the
  same devices and weights. Per device and round: bytes received and sent (Flower's
  serialized messages), device seconds (the ClientApp calls, all stages); server seconds
  (the round's wall time minus device time); ratios secure / plain.
* **encoding**: the plain round's clipped updates (at most 200), encoded at the secure
  round's fixed-point scale: relative error of the decoded sum, its RMS per coordinate
  over the distributed noise's standard deviation, and the coordinates that would wrap
  around 2³² with noise (modular clipping).
* **accuracy** (needs ``../shared/data``): the federated style model on MBTI users (one
  user per device, user-level held-out split), from zero weights, central noise vs
  secure aggregation with distributed noise, same policy (the default preset adapted to
  k=10, q=0.1 as in ``bench_federated.py``), same seed, same ε budget: held-out AUC.

Prints a table; writes ``reports/bench_secagg.json``. ``--quick``: 50 devices, no 1000.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import re
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from _bench_common import REPO_ROOT, environment, format_table, progress, write_json

sys.path.insert(0, str(REPO_ROOT))

import numpy as np  # after the repository is importable
from flwr.app import ArrayRecord, Context, Message  # idem
from flwr.clientapp import ClientApp  # idem
from flwr.supercore.task_identity import TaskIdentity  # idem

from edge_client.federated.app import app as client_app  # idem
from fl_server.app import run_server  # idem
from fl_server.local_grid import LocalGrid  # idem
from fl_server.secagg import simulation_identities  # idem
from fl_server.settings import ServerSettings  # idem

OUT = REPO_ROOT / "reports" / "bench_secagg.json"
_KEPT_UPDATES = 200


class Metered(ClientApp):
    """The real ClientApp, timed and weighed per node (and a sample of plain updates kept)."""

    def __init__(self, keep_updates: int = 0) -> None:
        super().__init__()
        self.seconds: dict[int, float] = defaultdict(float)
        self.down: dict[int, int] = defaultdict(int)
        self.up: dict[int, int] = defaultdict(int)
        self.updates: list[dict[str, np.ndarray]] = []
        self.keep = keep_updates

    def __call__(self, message: Message, context: Context) -> Message:
        """Answer with the real ClientApp; record time and bytes."""
        node = context.node_id
        start = time.perf_counter()
        reply = client_app(message, context)
        self.seconds[node] += time.perf_counter() - start
        self.down[node] += len(LocalGrid.reply_bytes(message))
        self.up[node] += len(LocalGrid.reply_bytes(reply))
        arrays = None if reply.has_error() else reply.content.get("arrays")
        if isinstance(arrays, ArrayRecord) and len(self.updates) < self.keep:
            self.updates.append({k: a.numpy() for k, a in arrays.items()})
        return reply


def _policy(work: Path, name: str, preset: str, values: dict[str, str]) -> Path:
    text = (REPO_ROOT / "policies" / f"{preset}.toml").read_text(encoding="utf-8")
    for key, value in values.items():
        text, count = re.subn(rf"(?m)^{key} = .*$", f"{key} = {value}", text, count=1)
        if count != 1:
            raise KeyError(key)
    path = work / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _run(
    nodes: list[dict[str, Any]], config: dict[str, Any], keep: int = 0
) -> tuple[Metered, list[dict[str, Any]], float, Any]:
    TaskIdentity.run_id, TaskIdentity.node_id, TaskIdentity.task_id = 1, 1, 1
    app = Metered(keep)
    grid = LocalGrid(app, nodes, config, keep=False)
    start = time.perf_counter()
    result = run_server(grid, ServerSettings.from_run_config(config))
    wall = time.perf_counter() - start
    rounds = json.loads(result.metrics.read_text())["rounds"]
    return app, rounds, wall, result


def _encoding(updates: list[dict[str, np.ndarray]], record: dict[str, Any]) -> dict[str, Any]:
    """Quantization error and modular clipping of real updates at the secure round's scale."""
    from edge_client.secagg.encoding import Layout, quantize
    from edge_client.secagg.noise import discrete_gaussian

    bits, std = int(record["scale_bits"]), float(record["device_noise_std"])
    layout = Layout(tuple((k, v.shape) for k, v in sorted(updates[0].items())), ())
    rng = np.random.default_rng(0)
    exact = np.zeros(layout.weight_dim)
    summed = np.zeros(layout.weight_dim, np.int64)
    noisy = np.zeros(layout.weight_dim, np.int64)
    for update in updates:
        exact += np.concatenate([update[k].ravel() for k, _ in layout.shapes])
        rounded = quantize(update, layout, scale_bits=bits, clipping_norm=0.5, rng=rng)
        summed += rounded
        noisy += rounded + discrete_gaussian(rng, std, rounded.size)
    decoded = summed / 2.0**bits
    error = decoded - exact
    noise_sum = std * math.sqrt(len(updates)) / 2.0**bits
    return {
        "updates": len(updates),
        "scale_bits": bits,
        "relative_error_of_sum": float(np.linalg.norm(error) / np.linalg.norm(exact)),
        "rms_error_over_noise_std": float(np.sqrt(np.mean(error**2)) / noise_sum),
        "coordinates_wrapped": int(np.sum(np.abs(noisy) >= 2**31)),
        "largest_over_modulus_half": float(np.max(np.abs(noisy)) / 2**31),
    }


def _cost(devices: int, work: Path) -> dict[str, Any]:
    """One plain and one secure round on ``devices`` virtual devices; costs per device."""
    identities, authority = simulation_identities(work / "identities", devices)
    k = min(100, devices)
    common = {"sampling_rate": "1.0", "min_cohort": str(k), "target_epsilon": "100.0"}
    nodes = [{"partition-id": i} for i in range(devices)]
    out: dict[str, Any] = {"devices": devices}
    for mode in ("plain", "secure"):
        policy = _policy(
            work,
            f"{mode}-{devices}",
            "strict",
            {**common, "secure_aggregation": "true" if mode == "secure" else "false"},
        )
        config = {
            "policy": str(policy),
            "output-dir": str(work / f"{mode}-{devices}"),
            "model-trust": str(work / f"{mode}-{devices}" / "keys" / "model-signing.pub"),
            "num-rounds": 1,
            "seed": 1,
            "initial-model": "shipped",
            "heldout-eval": False,
            "secagg-identity": str(identities),
            "secagg-authority": str(authority),
        }
        progress(f"cost: {mode} round with {devices} devices")
        app, rounds, wall, _ = _run(nodes, config, keep=_KEPT_UPDATES if mode == "plain" else 0)
        record = rounds[0]
        if record["status"] != "aggregated":
            raise RuntimeError(f"{mode} round with {devices} devices: {record['status']}")
        device_s = sum(app.seconds.values())
        out[mode] = {
            "bytes_down_per_device": float(np.mean(list(app.down.values()))),
            "bytes_up_per_device": float(np.mean(list(app.up.values()))),
            "device_seconds_per_device": device_s / devices,
            "server_seconds": wall - device_s,
            "round_seconds": wall,
            "accepted": record["accepted"],
        }
        if mode == "plain":
            plain_updates = app.updates
        else:
            out["secure"]["protocol"] = {
                k: record["secagg"][k]
                for k in (
                    "neighbours",
                    "threshold",
                    "min_survivors",
                    "scale_bits",
                    "device_noise_std",
                    "noise_calibration_factor",
                    "effective_noise_multiplier",
                )
            }
            out["encoding"] = _encoding(plain_updates, record["secagg"])
    plain, secure = out["plain"], out["secure"]
    out["ratios"] = {
        "bytes_up": secure["bytes_up_per_device"] / plain["bytes_up_per_device"],
        "bytes_down": secure["bytes_down_per_device"] / plain["bytes_down_per_device"],
        "device_seconds": secure["device_seconds_per_device"] / plain["device_seconds_per_device"],
        "server_seconds": secure["server_seconds"] / max(plain["server_seconds"], 1e-9),
    }
    return out


REGIMES = (
    # name, preset, rounds cap, seeds: ε is the preset's budget (or what the cap spends)
    ("default", "default", 60, (1, 2, 3)),
    ("research", "research", 30, (1,)),
)


def _accuracy_run(
    data: Path, work: Path, *, preset: str, mode: str, rounds: int, seed: int, epochs: int
) -> dict[str, Any]:
    """One federated run on MBTI users; held-out AUC of its final model."""
    from edge_client.federated.bundle import verify_model_bundle
    from edge_client.federated.device import _mbti_train_users
    from edge_client.models import ModelName, load_model
    from edge_client.policy import TrustStore
    from fl_server.evaluation import heldout_people, score_people

    users = _mbti_train_users(str(data.resolve()))
    identities, authority = simulation_identities(work / "identities-mbti", len(users))
    name = f"acc-{preset}-{mode}-{seed}"
    policy = _policy(
        work,
        name,
        preset,
        {
            "min_cohort": "10",
            "sampling_rate": "0.1",
            "secure_aggregation": "true" if mode == "secure" else "false",
        },
    )
    config = {
        "policy": str(policy),
        "data": str(data.resolve()),
        "output-dir": str(work / name),
        "model-trust": str(work / name / "keys" / "model-signing.pub"),
        "num-rounds": rounds,
        "seed": seed,
        "initial-model": "zero",
        "heldout-eval": False,
        "local-epochs": epochs,
        "learning-rate": 0.5,
        "secagg-identity": str(identities),
        "secagg-authority": str(authority),
    }
    progress(f"accuracy: {preset} policy, {mode} noise, seed {seed}, {len(users)} MBTI users")
    _, records, wall, result = _run([{"partition-id": i} for i in range(len(users))], config)
    bundle = verify_model_bundle(
        (result.output_dir / "bundles" / "style-latest.bundle").read_bytes(),
        TrustStore.load(result.output_dir / "keys" / "model-signing.pub"),
        policy_hash=json.loads(result.metrics.read_text())["settings"]["policy_hash"],
    )
    model = load_model(ModelName.STYLE)
    model.set_weights(dict(bundle.weights))
    done = [r for r in records if r["status"] == "aggregated"]
    return {
        **score_people(model, heldout_people(str(data.resolve()), 0)),
        "epsilon": result.epsilon,
        "rounds_aggregated": len(done),
        "mean_noise_std": float(np.mean([r["noise_std"] for r in done])) if done else 0.0,
        "seconds": wall,
    }


def _accuracy(data: Path, work: Path, epochs: int, regimes: Any) -> dict[str, Any]:
    """Held-out AUC, central noise vs secure aggregation, same policy, seed and ε budget."""
    out: dict[str, Any] = {}
    for name, preset, rounds, seeds in regimes:
        runs = []
        for seed in seeds:
            pair = {
                mode: _accuracy_run(
                    data, work, preset=preset, mode=mode, rounds=rounds, seed=seed, epochs=epochs
                )
                for mode in ("central", "secure")
            }
            pair["auc_secure_minus_central"] = pair["secure"]["auc"] - pair["central"]["auc"]
            pair["noise_ratio"] = (
                pair["secure"]["mean_noise_std"] / pair["central"]["mean_noise_std"]
            )
            runs.append({"seed": seed, **pair})
        differences = [r["auc_secure_minus_central"] for r in runs]
        out[name] = {
            "preset": preset,
            "runs": runs,
            "mean_auc_central": float(np.mean([r["central"]["auc"] for r in runs])),
            "mean_auc_secure": float(np.mean([r["secure"]["auc"] for r in runs])),
            "mean_difference": float(np.mean(differences)),
            "std_difference": float(np.std(differences)),
            "epsilon": runs[0]["central"]["epsilon"],
            "rounds": runs[0]["central"]["rounds_aggregated"],
            "within_target": abs(float(np.mean(differences))) <= 0.01,
        }
    return out


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; return the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="50 devices, short accuracy run")
    parser.add_argument("--devices", type=int, nargs="*", default=None)
    parser.add_argument("--data", type=Path, default=REPO_ROOT.parent / "shared" / "data")
    parser.add_argument("--no-accuracy", action="store_true")
    parser.add_argument("--accuracy-only", action="store_true", help="skip the cost part")
    parser.add_argument(
        "--regimes", nargs="*", default=None, help="accuracy regimes to run (default: all)"
    )
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    sizes = args.devices or ([50] if args.quick else [100, 1000])
    logging.getLogger("flwr").setLevel(logging.WARNING)  # results on stdout, not Flower's log
    report: dict[str, Any] = {"script": "bench_secagg.py", "environment": environment()}
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        if not args.accuracy_only:
            _cost(4, Path(tmp) / "warm-up")  # imports, accountant caches: no round's time
        report["cost"] = (
            [] if args.accuracy_only else [_cost(n, Path(tmp) / f"cost-{n}") for n in sizes]
        )
        for c in report["cost"]:
            p, s, r = c["plain"], c["secure"], c["ratios"]
            rows += [
                (
                    f"{c['devices']} devices: kB received / device",
                    f"{p['bytes_down_per_device'] / 1e3:.1f}",
                    f"{s['bytes_down_per_device'] / 1e3:.1f}",
                    f"{r['bytes_down']:.2f}",
                ),
                (
                    f"{c['devices']} devices: kB sent / device",
                    f"{p['bytes_up_per_device'] / 1e3:.1f}",
                    f"{s['bytes_up_per_device'] / 1e3:.1f}",
                    f"{r['bytes_up']:.2f}",
                ),
                (
                    f"{c['devices']} devices: device s / round",
                    f"{p['device_seconds_per_device']:.3f}",
                    f"{s['device_seconds_per_device']:.3f}",
                    f"{r['device_seconds']:.2f}",
                ),
                (
                    f"{c['devices']} devices: server s / round",
                    f"{p['server_seconds']:.2f}",
                    f"{s['server_seconds']:.2f}",
                    f"{r['server_seconds']:.2f}",
                ),
            ]
        mbti = args.data / "mbti" / "users.jsonl"
        if not args.no_accuracy and mbti.is_file():
            chosen: tuple[tuple[str, str, int, tuple[int, ...]], ...] = (
                (("default", "default", 2, (1,)),) if args.quick else REGIMES
            )
            regimes = [r for r in chosen if args.regimes is None or r[0] in args.regimes]
            report["accuracy"] = {}
            for regime in regimes:  # the report is rewritten after each regime
                report["accuracy"].update(
                    _accuracy(args.data, Path(tmp) / "accuracy", 2 if args.quick else 3, [regime])
                )
                write_json(args.out, report)
        elif not args.no_accuracy:
            report["accuracy"] = {"skipped": f"{mbti} not found"}
    print(format_table(["measure", "plain", "secure", "secure / plain"], rows))
    for c in report["cost"]:
        e = c["encoding"]
        print(
            f"{c['devices']} devices: encoding at 2^{e['scale_bits']}: relative error of the sum "
            f"{e['relative_error_of_sum']:.2e}, RMS error / noise std "
            f"{e['rms_error_over_noise_std']:.2e}, wrapped coordinates {e['coordinates_wrapped']}"
        )
    for name, acc in report.get("accuracy", {}).items():
        if not isinstance(acc, dict) or "runs" not in acc:
            continue
        print(
            f"accuracy, {name} policy (k=10, q=0.1; ε {acc['epsilon']:.2f}, {acc['rounds']} "
            f"rounds; MBTI held-out AUC over {len(acc['runs'])} seed(s)): central noise "
            f"{acc['mean_auc_central']:.4f}, secure + distributed noise "
            f"{acc['mean_auc_secure']:.4f}; difference {acc['mean_difference']:+.4f} "
            f"(± {acc['std_difference']:.4f}; target within 0.01: "
            f"{'met' if acc['within_target'] else 'NOT met'}); noise ratio "
            f"{acc['runs'][0]['noise_ratio']:.3f}"
        )
    write_json(args.out, report)
    print(f"report: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
