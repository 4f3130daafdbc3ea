from __future__ import annotations

import math
from datetime import datetime

import pytest
from pydantic import ValidationError

from contracts import TELEMETRY, ContractError, KafkaSettings, TelemetrySample
from contracts.examples import T0, telemetry


def test_unknown_fields_are_rejected() -> None:
    raw = TELEMETRY.encode(telemetry()).replace(b'"seq"', b'"bogus":1,"seq"')
    with pytest.raises(ContractError, match="bogus"):
        TELEMETRY.decode(raw)


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_non_finite_signals_are_rejected(value: float) -> None:
    with pytest.raises(ValidationError, match="not finite"):
        telemetry(spindle_power_kw=value)


def test_naive_timestamps_are_rejected() -> None:
    with pytest.raises(ValidationError, match="timezone"):
        TelemetrySample(machine_id="line-1/cnc-01", ts=datetime(2026, 1, 1), seq=0, signals={})  # noqa: DTZ001 - under test


def test_timestamps_are_normalised_to_utc() -> None:
    raw = TELEMETRY.encode(telemetry()).replace(b"08:00:00Z", b"16:00:00+08:00")
    assert TELEMETRY.decode(raw).ts == T0


@pytest.mark.parametrize("raw", [b"", b"not json", b"{}", b"[1,2]", None, b'{"schema_version":2}'])
def test_decode_failures_are_one_error_type(raw: bytes | None) -> None:
    with pytest.raises(ContractError):
        TELEMETRY.decode(raw)


def test_bad_machine_id_is_rejected() -> None:
    with pytest.raises(ValidationError, match="machine_id"):
        telemetry(machine_id="CNC 1")


def test_messages_are_frozen() -> None:
    sample = telemetry()
    with pytest.raises(ValidationError):
        sample.seq = 5  # type: ignore[misc]


def test_sasl_settings_need_credentials() -> None:
    with pytest.raises(ValidationError, match="sasl_username"):
        KafkaSettings(security_protocol="SASL_SSL", sasl_mechanism="SCRAM-SHA-512")


def test_client_kwargs_carry_tls_and_sasl() -> None:
    s = KafkaSettings(bootstrap_servers="a:9093,b:9093", security_protocol="SASL_SSL", sasl_mechanism="PLAIN",
                      sasl_username="u", sasl_password="s3cret-pw", ssl_cafile="/ca.pem")
    kw = s.client_kwargs()
    assert kw["bootstrap_servers"] == ["a:9093", "b:9093"]
    assert kw["sasl_plain_password"] == "s3cret-pw" and kw["ssl_cafile"] == "/ca.pem"
    assert "s3cret-pw" not in repr(s)
