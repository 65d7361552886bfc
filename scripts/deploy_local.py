"""Start a loopback Flower deployment with TLS and SuperNode authentication, run, clean up.

Same as ``edgeprof deploy local``; run it from the repository root::

    python scripts/deploy_local.py --nodes 3 --rounds 2

Options are those of ``edgeprof deploy local --help``.
"""

from __future__ import annotations

import sys

from fl_server.deploy_cli import deploy


def main() -> None:
    """Run ``deploy local`` with this script's arguments."""
    deploy.main(args=["local", *sys.argv[1:]], prog_name="deploy_local.py")


if __name__ == "__main__":
    main()
