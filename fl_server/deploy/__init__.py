"""Deployment of the federation on Flower's deployment engine, with the project's own keys.

``edgeprof deploy certs`` makes a local CA, the SuperLink's TLS certificate and SuperNode
authentication keys (:mod:`fl_server.deploy.certs`); ``edgeprof deploy local`` starts
``flower-superlink`` and several ``flower-supernode`` processes on loopback with TLS and
SuperNode authentication, runs ``flwr run`` against them and ends every process
(:mod:`fl_server.deploy.launcher`). Scaling out uses the same Flower programs on real
machines; see ``docs/deployment.md``.
"""

from fl_server.deploy.certs import (
    LOOPBACK_HOSTS,
    Credentials,
    NodeKey,
    make_credentials,
    make_node_key,
    node_public_key,
    reissue_server_certificate,
)
from fl_server.deploy.errors import CredentialError, DeployError, LaunchError
from fl_server.deploy.launcher import (
    CONNECTION,
    DeployReport,
    DeploySettings,
    LocalDeployment,
    flower_executable,
    run_local,
)
from fl_server.deploy.policy import write_loopback_policy
from fl_server.deploy.processes import ManagedProcess, Supervisor, live_processes
from fl_server.deploy.proxy import Capture, RecordingProxy

__all__ = [
    "CONNECTION",
    "LOOPBACK_HOSTS",
    "Capture",
    "CredentialError",
    "Credentials",
    "DeployError",
    "DeployReport",
    "DeploySettings",
    "LaunchError",
    "LocalDeployment",
    "ManagedProcess",
    "NodeKey",
    "RecordingProxy",
    "Supervisor",
    "flower_executable",
    "live_processes",
    "make_credentials",
    "make_node_key",
    "node_public_key",
    "reissue_server_certificate",
    "run_local",
    "write_loopback_policy",
]
