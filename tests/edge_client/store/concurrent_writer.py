"""A writer process of the concurrency test (not a test module: pytest does not collect it).

``python concurrent_writer.py DATA_DIR WORKER COUNT`` opens a Device on DATA_DIR and appends
COUNT feedback events one by one, each its own change, printing each event's id once the
call that saved it has returned (an acknowledged write).
"""

from __future__ import annotations

import sys
from pathlib import Path

from edge_client.device import DataSection, Device


def main() -> None:
    """Append the events and acknowledge each on standard output."""
    data, worker, count = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    device = Device(data, lock_timeout=60.0)
    for i in range(count):
        ident = f"w{worker}-{i}"
        device.append_records(DataSection.FEEDBACK, [{"item": ident, "engaged": True}])
        print(ident, flush=True)


if __name__ == "__main__":
    main()
