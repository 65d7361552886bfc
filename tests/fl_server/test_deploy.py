"""The loopback deployment: credentials, a real TLS + SuperNode-auth run, refusal, cleanup."""

from __future__ import annotations

import json
import socket
import ssl
import stat
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID

from fl_server.deploy import (
    CredentialError,
    DeploySettings,
    LaunchError,
    LocalDeployment,
    flower_executable,
    make_credentials,
    make_node_key,
    node_public_key,
    reissue_server_certificate,
)
from fl_server.deploy_cli import deploy

REPO = Path(__file__).resolve().parents[2]


def _flower_installed() -> bool:
    try:
        flower_executable("flower-superlink")
        flower_executable("flower-supernode")
        flower_executable("flwr")
    except LaunchError:
        return False
    return True


needs_flower = pytest.mark.skipif(
    not _flower_installed(), reason="flower-superlink/flower-supernode/flwr not installed"
)


def _certificate(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def _handshake(ca: Path, certificate: Path, key: Path, host: str) -> bytes:
    """Serve TLS with ``certificate`` on loopback; connect verifying against ``ca``."""
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(certificate, key)
    client = ssl.create_default_context(cafile=str(ca))
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def serve() -> None:
        connection, _ = listener.accept()
        try:
            with server.wrap_socket(connection, server_side=True) as tls:
                tls.sendall(b"ok")
        except (ssl.SSLError, OSError):
            connection.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        with (
            socket.create_connection(("127.0.0.1", port), timeout=10) as raw,
            client.wrap_socket(raw, server_hostname=host) as tls,
        ):
            return tls.recv(2)
    finally:
        thread.join(timeout=10)
        listener.close()


def test_credentials_are_valid_and_private(tmp_path: Path) -> None:
    """The server certificate chains to the CA, names 127.0.0.1, and every file is 0600."""
    made = make_credentials(tmp_path / "creds", nodes=2)
    ca, server = _certificate(made.ca_certificate), _certificate(made.server_certificate)
    server.verify_directly_issued_by(ca)
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    names = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "127.0.0.1" in {str(ip) for ip in names.get_values_for_type(x509.IPAddress)}
    assert "localhost" in names.get_values_for_type(x509.DNSName)
    usage = server.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert ExtendedKeyUsageOID.SERVER_AUTH in list(usage)
    assert _handshake(made.ca_certificate, made.server_certificate, made.server_key, "127.0.0.1")
    assert len(made.nodes) == 2
    for node in made.nodes:
        private = serialization.load_ssh_private_key(node.private_key.read_bytes(), None)
        assert isinstance(private, ec.EllipticCurvePrivateKey)
        assert node.public_key.read_text().startswith("ecdsa-sha2-nistp384 ")
        public = node_public_key(node.public_key)
        assert public.public_numbers() == private.public_key().public_numbers()
    files = [p for p in (tmp_path / "creds").rglob("*") if p.is_file()]
    folders = [tmp_path / "creds", *(p for p in (tmp_path / "creds").rglob("*") if p.is_dir())]
    assert len(files) == 8
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in files)
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o700 for p in folders)


def test_untrusted_ca_fails_the_handshake(tmp_path: Path) -> None:
    """A client trusting another CA refuses the SuperLink certificate."""
    made = make_credentials(tmp_path / "a", nodes=0)
    other = make_credentials(tmp_path / "b", nodes=0)
    with pytest.raises(ssl.SSLCertVerificationError):
        _handshake(other.ca_certificate, made.server_certificate, made.server_key, "127.0.0.1")


def test_existing_credentials_are_not_overwritten(tmp_path: Path) -> None:
    """Making credentials twice in one folder fails unless overwriting is asked for."""
    first = make_credentials(tmp_path, nodes=1)
    before = first.ca_certificate.read_bytes()
    with pytest.raises(CredentialError, match="refusing to overwrite"):
        make_credentials(tmp_path, nodes=1)
    assert first.ca_certificate.read_bytes() == before
    make_credentials(tmp_path, nodes=1, overwrite=True)
    assert first.ca_certificate.read_bytes() != before
    with pytest.raises(CredentialError, match="plain file name"):
        make_node_key(tmp_path, "../escape")


def test_reissued_server_certificate_chains_to_the_same_ca(tmp_path: Path) -> None:
    """Rotating the SuperLink certificate keeps the CA every client already trusts."""
    made = make_credentials(tmp_path, nodes=0)
    old = _certificate(made.server_certificate)
    certificate, key = reissue_server_certificate(tmp_path, hosts=("127.0.0.1", "edge.test"))
    new = _certificate(certificate)
    assert new.serial_number != old.serial_number
    new.verify_directly_issued_by(_certificate(made.ca_certificate))
    names = new.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "edge.test" in names.get_values_for_type(x509.DNSName)
    assert _handshake(made.ca_certificate, certificate, key, "edge.test") == b"ok"


def test_certs_command_writes_the_files(tmp_path: Path) -> None:
    """``deploy certs`` writes the CA, the server pair and the node keys, and refuses reruns."""
    runner = CliRunner()
    result = runner.invoke(deploy, ["certs", str(tmp_path / "c"), "--nodes", "1"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "c" / "supernodes" / "supernode-0.pub").is_file()
    again = runner.invoke(deploy, ["certs", str(tmp_path / "c"), "--nodes", "1"])
    assert again.exit_code != 0
    assert "refusing to overwrite" in again.output


@needs_flower
@pytest.mark.slow
@pytest.mark.timeout(150)
def test_tls_run_with_node_auth_completes_and_leaves_no_process(tmp_path: Path) -> None:
    """SuperLink + 2 authenticated SuperNodes over TLS run 2 rounds; then nothing is left."""
    settings = DeploySettings(
        app_dir=REPO,
        work_dir=tmp_path / "deploy",
        nodes=2,
        num_rounds=2,
        run_config={"seed": 5},
        run_timeout=100.0,
    )
    with LocalDeployment(settings) as deployment:
        creds = deployment.credentials
        assert creds is not None
        port = deployment.port
        # The SuperLink serves TLS with the project's certificate.
        context = ssl.create_default_context(cafile=str(creds.ca_certificate))
        with (
            socket.create_connection(("127.0.0.1", port), timeout=10) as raw,
            context.wrap_socket(raw, server_hostname="127.0.0.1") as tls,
        ):
            served = tls.getpeercert(binary_form=True)
        assert served == _certificate(creds.server_certificate).public_bytes(
            serialization.Encoding.DER
        )
        report = deployment.run()
        deployment.supervisor.track_descendants()
    assert report.completed, report.status
    assert [r["status"] for r in report.rounds] == ["aggregated", "aggregated"]
    assert all(r["cohort"] == 2 and r["accepted"] == 2 for r in report.rounds)
    metrics = json.loads((report.output_dir / "metrics.json").read_text())
    assert metrics
    assert len(deployment.supervisor.seen) > 4  # superlink, supernodes and their helpers
    assert deployment.supervisor.survivors() == []
    assert all(not p.running() for p in deployment.supervisor.processes)


@needs_flower
@pytest.mark.slow
@pytest.mark.timeout(120)
def test_supernode_with_unregistered_key_is_refused(tmp_path: Path) -> None:
    """Only the SuperNode whose key was registered comes online; the other one exits."""
    settings = DeploySettings(app_dir=REPO, work_dir=tmp_path / "deploy", nodes=2)
    deployment = LocalDeployment(settings)
    try:
        deployment.prepare()
        creds = deployment.credentials
        assert creds is not None
        deployment.start_superlink()
        registered = deployment.register(creds.nodes[0])
        rogue = make_node_key(tmp_path / "rogue", "rogue")
        deployment.start_supernode(0, creds.nodes[0])
        refused = deployment.start_supernode(1, rogue, max_retries=1, max_wait_time=10.0)
        deployment.wait_online(1)
        deadline = time.monotonic() + 60
        while refused.running() and time.monotonic() < deadline:
            time.sleep(0.5)
        assert not refused.running()
        assert refused.process.returncode not in (0, None)
        assert deployment.online_nodes() == [registered]
    finally:
        deployment.close()
    assert deployment.supervisor.survivors() == []
