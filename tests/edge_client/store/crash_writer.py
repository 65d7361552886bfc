"""The writer process of the crash test (not a test module: pytest does not collect it).

``python crash_writer.py STORE_DIR`` recovers the store in STORE_DIR, then saves generation
after generation forever, printing each number once its save has returned, until killed.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path
from typing import Any

from edge_client.store import EncryptedStore, FileKeyProvider


def make_state(n: int) -> dict[str, Any]:
    """Return the deterministic state the writer saves as its n-th generation (~64 KiB)."""
    digest = hashlib.sha256(str(n).encode()).digest()
    return {
        "counter": {"n": n},
        "blob": digest * 2048,
        "events": [{"i": i, "tag": digest.hex()[:8]} for i in range(n % 7)],
    }


def open_store(directory: Path) -> EncryptedStore:
    """Return the store the writer uses in ``directory`` (with a key file beside it)."""
    return EncryptedStore(
        directory / "store.bin", key_provider=FileKeyProvider(directory / "store.key")
    )


def main(directory: Path) -> None:
    """Save ever-increasing generations, acknowledging each on stdout, until killed."""
    store = open_store(directory)
    n = store.open_or_recover().state.get("counter", {}).get("n", 0)
    while True:
        n += 1
        store.save(make_state(n))
        sys.stdout.write(f"{n}\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main(Path(sys.argv[1]))
