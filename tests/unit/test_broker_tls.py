"""The secure broker's certificates and user checks, without starting a broker (openssl only)."""

from __future__ import annotations

import subprocess

import pytest

from contracts.errors import BrokerError
from runtime import broker


def openssl(*args: str) -> str:
    return subprocess.run(["openssl", *args], capture_output=True, text=True, check=True).stdout


def test_certificates_chain_to_the_ca_name_loopback_and_are_kept(tmp_path) -> None:
    tls = broker.ensure_tls(tmp_path / "tls")
    for name in ("broker", "client"):
        assert openssl("verify", "-CAfile", str(tls / "ca.crt"), str(tls / f"{name}.crt")).strip().endswith("OK")
        assert (tls / f"{name}.key").stat().st_mode & 0o077 == 0
    san = openssl("x509", "-in", str(tls / "broker.crt"), "-noout", "-ext", "subjectAltName")
    assert "IP Address:127.0.0.1" in san and "DNS:localhost" in san
    pem = (tls / "broker.pem").read_text()
    assert pem.startswith("-----BEGIN PRIVATE KEY-----") and pem.count("BEGIN CERTIFICATE") == 2

    before = {p.name: p.read_bytes() for p in tls.iterdir()}
    broker.ensure_tls(tls)  # idempotent: the CA clients trust stays the same
    assert {p.name: p.read_bytes() for p in tls.iterdir()} == before

    (tls / "ca.key").unlink()  # a lost CA key: new CA, and certificates it signed
    broker.ensure_tls(tls)
    assert (tls / "ca.crt").read_bytes() != before["ca.crt"]
    assert openssl("verify", "-CAfile", str(tls / "ca.crt"), str(tls / "broker.crt")).strip().endswith("OK")


@pytest.mark.parametrize(("users", "message"), [
    ({"linewatch": "short"}, "at least 12 characters"),
    ({"linewatch": 'has"quote-in-it'}, "at least 12 characters"),
    ({"bad name": "long-enough-password"}, "SCRAM user name"),
    ({"admin": "long-enough-password"}, "the broker's own"),
])
def test_bad_users_are_refused_before_anything_starts(tmp_path, users: dict, message: str) -> None:
    with pytest.raises(BrokerError, match=message):
        broker.start(tmp_path / "k", secure=True, users=users)
    assert broker.status(tmp_path / "k") is None


def test_security_options_need_secure(tmp_path) -> None:
    with pytest.raises(BrokerError, match="need secure=True"):
        broker.start(tmp_path / "k", plaintext_port=0)
