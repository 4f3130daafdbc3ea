from __future__ import annotations

import urllib.error
import urllib.request

import pytest
from prometheus_client import CollectorRegistry, Counter

from runtime.probes import HealthServer, loop_liveness


def get(port: int, path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


@pytest.fixture
def served():
    registry = CollectorRegistry()
    Counter("linewatch_test_things_total", "things", registry=registry).inc(3)
    silence = {"s": 1.0}
    server = HealthServer(0, registry, live=loop_liveness(lambda: silence["s"], max_silence_s=30),
                          addr="127.0.0.1").start()
    yield server, silence
    server.stop()


def test_metrics_are_served(served) -> None:
    server, _ = served
    code, body = get(server.port, "/metrics")
    assert code == 200 and "linewatch_test_things_total 3.0" in body


def test_healthz_follows_the_loop(served) -> None:
    server, silence = served
    assert get(server.port, "/healthz")[0] == 200
    silence["s"] = 120.0
    code, body = get(server.port, "/healthz")
    assert code == 503 and "silent for 120s" in body


def test_unknown_path_is_404(served) -> None:
    server, _ = served
    assert get(server.port, "/nope")[0] == 404


def test_cluster_ids_never_look_like_options() -> None:
    import base64

    from runtime.broker import new_cluster_id

    ids = [new_cluster_id() for _ in range(2000)]  # ~31 would start with "-" if not redrawn
    assert not any(i.startswith("-") for i in ids)
    assert all(len(base64.urlsafe_b64decode(i + "==")) == 16 for i in ids)


def test_loop_checks_cover_startup_and_silence() -> None:
    from runtime.probes import loop_checks

    class Loop:
        silence = 5.0

        def seconds_since_poll(self) -> float:
            return self.silence

    holder: dict = {"loop": None}
    live, ready = loop_checks(lambda: holder["loop"], max_silence_s=30, startup_grace_s=60)
    assert live()[0] and not ready()[0]  # starting: alive, not ready
    holder["loop"] = Loop()
    assert live()[0] and ready()[0]
    holder["loop"].silence = 90.0
    assert not live()[0] and not ready()[0]


def test_librdkafka_transport_maps_every_setting_and_refuses_unknown_ones() -> None:
    from contracts.settings import KafkaSettings
    from runtime.transport import librdkafka_options

    kafka = KafkaSettings(bootstrap_servers="a:9093,b:9093", security_protocol="SASL_SSL",
                          sasl_mechanism="SCRAM-SHA-512", sasl_username="lw", sasl_password="pw",
                          ssl_cafile="/ca.pem", ssl_check_hostname=False, transport="confluent")
    conf = librdkafka_options(kafka, {**kafka.client_kwargs(), "group_id": "g", "enable_auto_commit": False,
                           "max_poll_records": 9, "session_timeout_ms": 15_000})
    assert conf["bootstrap.servers"] == "a:9093,b:9093" and conf["session.timeout.ms"] == 15_000
    assert (conf["security.protocol"], conf["sasl.mechanism"], conf["sasl.username"], conf["sasl.password"]) == (
        "sasl_ssl", "SCRAM-SHA-512", "lw", "pw")
    assert conf["ssl.ca.location"] == "/ca.pem" and conf["ssl.endpoint.identification.algorithm"] == "none"
    assert conf["group.id"] == "g" and conf["enable.auto.commit"] is False and "max_poll_records" not in conf
    with pytest.raises(ValueError, match="fetch_max_wait_ms"):
        librdkafka_options(kafka, {"fetch_max_wait_ms": 5})


def test_dead_letter_of_an_oversized_record_is_a_bounded_summary() -> None:
    import base64
    import hashlib

    from contracts.topics import DEADLETTER
    from runtime.consumer import dead_letter

    raw = b"x" * 1_000_529
    letter = dead_letter("scoring", "linewatch.telemetry.v1", 3, 42, b"line-1/cnc-01", raw, "too big", "ContractError",
                         max_bytes=100_000, prefix_bytes=1000)
    assert len(DEADLETTER.encode(letter)) < 100_000
    assert letter.truncated and letter.value_bytes == len(raw) and base64.b64decode(letter.value_b64) == raw[:1000]
    assert letter.value_sha256 == hashlib.sha256(raw).hexdigest()
    assert letter.reason.startswith("too big [record of 1,000,529 bytes") and "telemetry.v1[3]@42" in letter.reason
    small = dead_letter("scoring", "t", 0, 1, None, b"{}", "bad", "ContractError")
    assert not small.truncated and base64.b64decode(small.value_b64) == b"{}" and small.value_bytes == 2
    hostile_key = dead_letter("scoring", "t", 0, 1, b"k" * 50_000, b"{}", "bad", "ContractError")
    assert hostile_key.truncated and len(hostile_key.key) == 1000


def test_transient_errors_are_told_apart_from_record_errors() -> None:
    from kafka.errors import KafkaTimeoutError

    from runtime.consumer import is_transient

    class OperationalError(Exception):  # stands for sqlalchemy.exc.OperationalError (name-matched)
        pass

    assert is_transient(KafkaTimeoutError()) and is_transient(ConnectionResetError())
    assert is_transient(OperationalError())
    assert not is_transient(ValueError("bad value")) and not is_transient(KeyError("x"))


def test_healthz_fails_while_restarting_without_progress() -> None:
    from runtime.consumer import LoopProgress
    from runtime.probes import loop_checks

    class Loop:
        def seconds_since_poll(self) -> float:
            return 0.5  # a fresh loop after each restart polls happily

    progress = LoopProgress()
    live, ready = loop_checks(lambda: Loop(), progress=progress, stall_restarts=3)
    assert live()[0]
    for _ in range(3):
        progress.failed(RuntimeError("MessageSizeTooLargeError"))
    ok, detail = live()
    assert not ok and not ready()[0]
    assert "3 failures, never committed" in detail and "MessageSizeTooLargeError" in detail
    progress.committed()
    assert live()[0]
