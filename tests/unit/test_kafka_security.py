"""Kafka TLS/SASL settings: one piece, read from the environment, mapped to both client libraries."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from contracts.settings import KafkaSettings
from runtime.settings import LineWatchSettings

SECURE_ENV = {
    "LINEWATCH_KAFKA__BOOTSTRAP_SERVERS": "k1:9093,k2:9093",
    "LINEWATCH_KAFKA__SECURITY_PROTOCOL": "SASL_SSL",
    "LINEWATCH_KAFKA__SASL_MECHANISM": "SCRAM-SHA-512",
    "LINEWATCH_KAFKA__SASL_USERNAME": "linewatch",
    "LINEWATCH_KAFKA__SASL_PASSWORD": "from-the-env-9f3a",
    "LINEWATCH_KAFKA__SSL_CAFILE": "/etc/linewatch/kafka-ca/ca.crt",
    "LINEWATCH_KAFKA__SSL_CERTFILE": "/etc/linewatch/kafka-client/tls.crt",
    "LINEWATCH_KAFKA__SSL_KEYFILE": "/etc/linewatch/kafka-client/tls.key",
}


def test_environment_feeds_both_client_libraries_the_same_security(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in SECURE_ENV.items():
        monkeypatch.setenv(key, value)
    kafka = LineWatchSettings().kafka
    kp = kafka.client_kwargs()
    rd = kafka.librdkafka_config()
    assert (kp["security_protocol"], rd["security.protocol"]) == ("SASL_SSL", "sasl_ssl")
    assert kp["sasl_mechanism"] == rd["sasl.mechanism"] == "SCRAM-SHA-512"
    assert kp["sasl_plain_username"] == rd["sasl.username"] == "linewatch"
    assert kp["sasl_plain_password"] == rd["sasl.password"] == "from-the-env-9f3a"
    assert kp["ssl_cafile"] == rd["ssl.ca.location"] == "/etc/linewatch/kafka-ca/ca.crt"
    assert kp["ssl_certfile"] == rd["ssl.certificate.location"] == "/etc/linewatch/kafka-client/tls.crt"
    assert kp["ssl_keyfile"] == rd["ssl.key.location"] == "/etc/linewatch/kafka-client/tls.key"
    assert kp["ssl_check_hostname"] is True and rd["ssl.endpoint.identification.algorithm"] == "https"
    assert kp["bootstrap_servers"] == ["k1:9093", "k2:9093"] and rd["bootstrap.servers"] == "k1:9093,k2:9093"
    assert "from-the-env-9f3a" not in repr(kafka) and "from-the-env-9f3a" not in kafka.model_dump_json()


def test_no_default_password(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in SECURE_ENV.items():
        if key != "LINEWATCH_KAFKA__SASL_PASSWORD":
            monkeypatch.setenv(key, value)
    with pytest.raises(ValidationError, match="needs sasl_username and sasl_password"):
        LineWatchSettings()


def test_plaintext_default_carries_no_security_keys() -> None:
    kafka = KafkaSettings()
    assert kafka.security_protocol == "PLAINTEXT" and kafka.sasl_password is None
    assert not [k for k in kafka.client_kwargs() if k.startswith(("sasl", "ssl"))]
    assert not [k for k in kafka.librdkafka_config() if k.startswith(("sasl", "ssl"))]


def test_password_from_a_mounted_secret_file(tmp_path) -> None:
    secret = tmp_path / "kafka-password"
    secret.write_text("s3cret-from-file\n")
    kafka = KafkaSettings(security_protocol="SASL_SSL", sasl_mechanism="SCRAM-SHA-512", sasl_username="lw",
                          sasl_password_file=secret)
    assert kafka.client_kwargs()["sasl_plain_password"] == "s3cret-from-file"
    with pytest.raises(ValidationError, match="not both"):
        KafkaSettings(security_protocol="SASL_SSL", sasl_mechanism="SCRAM-SHA-512", sasl_username="lw",
                      sasl_password="x", sasl_password_file=secret)
    with pytest.raises(ValidationError, match="No such file"):
        KafkaSettings(security_protocol="SASL_SSL", sasl_mechanism="SCRAM-SHA-512", sasl_username="lw",
                      sasl_password_file=tmp_path / "missing")
    (tmp_path / "empty").write_text("\n")
    with pytest.raises(ValidationError, match="is empty"):
        KafkaSettings(security_protocol="SASL_SSL", sasl_mechanism="SCRAM-SHA-512", sasl_username="lw",
                      sasl_password_file=tmp_path / "empty")


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"sasl_mechanism": "SCRAM-SHA-512", "sasl_username": "u", "sasl_password": "p"}, "use SASL_SSL"),
    ({"ssl_cafile": "/ca.crt"}, "use SSL or SASL_SSL"),
    ({"security_protocol": "SSL", "ssl_certfile": "/c.crt"}, "go together"),
    ({"security_protocol": "SASL_SSL"}, "needs sasl_mechanism"),
])
def test_half_configured_security_is_refused(kwargs: dict, message: str) -> None:
    """A setting that would silently be ignored (credentials sent nowhere, TLS never used) is an error."""
    with pytest.raises(ValidationError, match=message):
        KafkaSettings(**kwargs)


def test_key_password_and_hostname_check_map_to_both() -> None:
    kafka = KafkaSettings(security_protocol="SSL", ssl_cafile="/ca", ssl_certfile="/c", ssl_keyfile="/k",
                          ssl_key_password="kp", ssl_check_hostname=False)
    assert kafka.client_kwargs()["ssl_password"] == "kp" and kafka.client_kwargs()["ssl_check_hostname"] is False
    rd = kafka.librdkafka_config()
    assert rd["ssl.key.password"] == "kp" and rd["ssl.endpoint.identification.algorithm"] == "none"
