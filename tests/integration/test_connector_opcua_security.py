"""OPC UA with SignAndEncrypt (Basic256Sha256) and user/password against a real asyncua server."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import pytest
from asyncua.crypto.cert_gen import setup_self_signed_certificate
from cryptography.x509.oid import ExtendedKeyUsageOID
from test_connector_support import Face, connector, read_until, stop_all, wait_for

pytestmark = pytest.mark.integration


def certs(folder: Path) -> dict[str, Path]:
    files = {n: folder / n for n in ("server.pem", "server.der", "client.pem", "client.der")}
    host = socket.gethostname()
    asyncio.run(setup_self_signed_certificate(files["server.pem"], files["server.der"], "urn:linewatch:simulator",
                                              host, [ExtendedKeyUsageOID.SERVER_AUTH], {"commonName": "plc"}))
    asyncio.run(setup_self_signed_certificate(files["client.pem"], files["client.der"], "urn:linewatch:connector",
                                              host, [ExtendedKeyUsageOID.CLIENT_AUTH], {"commonName": "lw"}))
    return files


def mapping(port: int, files: dict[str, Path], password_env: str) -> str:
    return f"""
sources:
  - name: secure-ua
    protocol: opcua
    endpoint: opc.tcp://127.0.0.1:{port}/linewatch/
    publishing_interval_ms: 200
    security:
      mode: SignAndEncrypt
      policy: Basic256Sha256
      certificate: {files['client.der']}
      private_key: {files['client.pem']}
      username: op
      password_env: {password_env}
    tags:
      - {{node: "ns=2;s=line-b/m-0000/sensor000_c", machine: line-b/m-0000, signal: sensor000_c}}
"""


def test_sign_and_encrypt_with_user_password(kafka_settings, unique, tmp_path: Path, monkeypatch) -> None:
    files = certs(tmp_path)
    face = Face("opcua", "--grid", "1x1", "--pattern", "ramp", "--period", "0.2", "--certificate",
                str(files["server.der"]), "--private-key", str(files["server.pem"]), "--user", "op:s3cret").start()
    monkeypatch.setenv("LW_TEST_GOOD_PW", "s3cret")
    monkeypatch.setenv("LW_TEST_BAD_PW", "wrong")
    good_topic, bad_topic = unique("telemetry"), unique("telemetry")
    good = connector(tmp_path / "good", kafka_settings, mapping(face.port, files, "LW_TEST_GOOD_PW"), good_topic)
    bad = connector(tmp_path / "bad", kafka_settings, mapping(face.port, files, "LW_TEST_BAD_PW"), bad_topic)
    good.start()
    bad.start()
    try:
        samples = read_until(kafka_settings, good_topic, lambda s: len(s) >= 5, 60)
        wait_for(lambda: (bad.registry.get_sample_value("linewatch_connector_errors_total",
                                                        {"protocol": "opcua", "kind": "connect"}) or 0) >= 1,
                 30, "the wrong password to be refused")
        refused = read_until(kafka_settings, bad_topic, lambda s: False, 2)
    finally:
        stop_all(good.stop, bad.stop, face.stop)
    assert len(samples) >= 5 and all(s.source == "opcua" for s in samples)
    assert refused == []
