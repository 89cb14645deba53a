"""``noc-console serve`` and ``noc-console token`` as real processes."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from tests.helpers.serve import ServeProcess, create_token, run_cli
from tests.helpers.servers import INCIDENT

pytestmark = pytest.mark.slow


def test_token_create_list_revoke(tmp_path: Path) -> None:
    db = str(tmp_path / "tokens.db")
    secret = create_token(db, "dispatcher", "wall-display-1")
    assert secret.startswith("noc_")
    assert len(secret) > 40
    duplicate = run_cli(
        "token", "create", "--role", "viewer", "--name", "wall-display-1", "--db", db
    )
    assert duplicate.returncode == 1
    assert "revoke it first" in duplicate.stderr

    listed = run_cli("token", "list", "--db", db)
    assert listed.returncode == 0
    assert "wall-display-1" in listed.stdout
    assert "dispatcher" in listed.stdout
    assert secret not in listed.stdout  # never shown again

    revoked = run_cli("token", "revoke", "wall-display-1", "--db", db)
    assert revoked.returncode == 0, revoked.stderr
    assert "revoked" in run_cli("token", "list", "--db", db).stdout
    again = run_cli("token", "revoke", "wall-display-1", "--db", db)
    assert again.returncode == 1
    assert "no live token" in again.stderr
    # A revoked token's name can be given to its replacement.
    assert create_token(db, "viewer", "wall-display-1") != secret


def test_token_rejects_an_unknown_role(tmp_path: Path) -> None:
    result = run_cli(
        "token", "create", "--role", "god", "--name", "x", "--db", str(tmp_path / "t.db")
    )
    assert result.returncode == 2
    assert "invalid choice" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--host", "0.0.0.0"], "refusing to serve plain HTTP on 0.0.0.0"),
        (["--host", "192.0.2.10"], "--insecure-http"),
        (["--host", "0.0.0.0", "--tls-cert", "cert.pem"], "give both --tls-cert and --tls-key"),
    ],
)
def test_serve_refuses_plain_http_on_a_network_address(
    tmp_path: Path, args: list[str], message: str
) -> None:
    (tmp_path / "cert.pem").write_text("not really a certificate")
    patched = [str(tmp_path / a) if a.endswith(".pem") else a for a in args]
    result = run_cli("serve", "--db", str(tmp_path / "s.db"), *patched)
    assert result.returncode == 2
    assert message in result.stderr


def test_serve_runs_as_a_real_process_and_logs_each_request(tmp_path: Path) -> None:
    db = str(tmp_path / "server.db")
    token = create_token(db, "dispatcher", "console-1")
    with ServeProcess(db, tmp_path / "serve.log") as server:
        assert server.url.startswith("http://127.0.0.1:")
        with server.client(token) as client:
            assert client.get("/v1/health").status_code == 200
            created = client.post("/v1/incidents", json=INCIDENT)
            assert created.status_code == 201
            assert created.json()["number"] == "INC-000001"
            assert client.get("/v1/incidents/INC-000001").status_code == 200
        code = server.stop(signal.SIGTERM)
    assert code == 0
    log = server.log_text()
    request_lines = [line for line in log.splitlines() if "console.server.access" in line]
    assert len(request_lines) == 3
    assert '"POST /v1/incidents" 201' in request_lines[1]
    assert all(" INFO " in line for line in request_lines)
    assert token not in log


def _self_signed(folder: Path) -> tuple[Path, Path]:
    """A throwaway certificate for 127.0.0.1, made with the cryptography package."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def test_serve_with_tls(tmp_path: Path) -> None:
    import ssl

    import httpx

    cert, key = _self_signed(tmp_path)
    db = str(tmp_path / "tls.db")
    extra = ("--tls-cert", str(cert), "--tls-key", str(key))
    with ServeProcess(db, tmp_path / "tls.log", *extra) as server:
        assert server.url.startswith("https://127.0.0.1:")
        context = ssl.create_default_context(cafile=str(cert))
        with httpx.Client(base_url=server.url, verify=context, timeout=10) as client:
            assert client.get("/v1/health").status_code == 200
