"""LineWatch over encrypted, authenticated Kafka: a real broker with one SASL_SSL listener
(SCRAM-SHA-512 over TLS, certificates made by ``openssl``) started by ``runtime.broker``.

Clients get their settings only from ``LINEWATCH_KAFKA__*`` environment variables (the broker's
``client.env``), as a deployment would. One broker for this module only; the other integration
tests keep the plaintext session broker.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from kafka import KafkaAdminClient, KafkaConsumer
from kafka.errors import KafkaTimeoutError
from pydantic import SecretStr
from sqlalchemy import func, select

from contracts.plant import load_plant
from contracts.settings import KafkaSettings, StoreSettings
from contracts.topics import ALERTS, DEADLETTER, SCORES, TELEMETRY
from pipelines.scoring.settings import ScoringOptions, ScoringSettings
from pipelines.scoring.worker import ScoringWorker
from pipelines.testing.samplestream import renamed_plant, samples
from runtime import broker
from runtime.producer import Producer
from runtime.settings import LineWatchSettings
from store import Store, schema

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
PER_MACHINE = 40
STEP = 5


@pytest.fixture(scope="module")
def secure_kafka(tmp_path_factory: pytest.TempPathFactory):
    work = tmp_path_factory.mktemp("kafka-sasl-ssl")
    users = {"linewatch": secrets.token_urlsafe(18)}
    try:
        info = broker.start(work, timeout_s=120, secure=True, users=users)
    except Exception as exc:  # noqa: BLE001 - a broker that cannot start is a failure, never a skip
        pytest.fail(f"SASL_SSL Kafka broker could not start: {exc}", pytrace=False)
    yield info
    broker.stop(work)


def client_env(info: broker.BrokerInfo) -> dict[str, str]:
    """The LINEWATCH_KAFKA__* variables the broker wrote to client.env (mode 0600)."""
    path = info.client_env_file
    assert path.stat().st_mode & 0o077 == 0, "client.env must be private to its owner"
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if line and not line.startswith("#"))
    return {k: v for k, v in pairs}


@pytest.fixture
def secure_env(secure_kafka, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    env = client_env(secure_kafka)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return env


def read_topic(settings: KafkaSettings, topic: str, prefix: str) -> list[dict]:
    consumer = KafkaConsumer(topic, group_id=None, auto_offset_reset="earliest", consumer_timeout_ms=3000,
                             **settings.client_kwargs())
    try:
        return [json.loads(r.value) for r in consumer if (r.key or b"").decode().startswith(prefix)]
    finally:
        consumer.close()


def count(store: Store, table) -> int:
    with store.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def linewatch(*args: str, env: dict[str, str], timeout: float = 300) -> subprocess.CompletedProcess:
    """The CLI in a child process whose Kafka settings are exactly ``env``'s LINEWATCH_KAFKA__* variables."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("LINEWATCH_KAFKA__")}
    return subprocess.run([sys.executable, "-m", "services.cli", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout, env={**base, **env})


def test_scoring_path_over_sasl_ssl(secure_kafka, secure_env, unique, registry_dir, tmp_path):
    """CLI creates the topics, telemetry is produced, the scoring worker scores it and publishes
    scores and alerts: every hop over SASL_SSL with settings from the environment only."""
    topics = linewatch("kafka", "topics", "--partitions", "2", env=secure_env)
    assert topics.returncode == 0, topics.stderr
    assert TELEMETRY.name in topics.stdout  # created now, by the CLI, over SASL_SSL

    kafka = LineWatchSettings().kafka  # from LINEWATCH_KAFKA__* only
    assert (kafka.security_protocol, kafka.sasl_mechanism) == ("SASL_SSL", "SCRAM-SHA-512")
    assert kafka.bootstrap_servers == secure_kafka.bootstrap
    prefix = unique("sec")
    plant = renamed_plant(load_plant(LineWatchSettings().plant_file), prefix)
    with Producer(kafka) as producer:
        for s in samples(plant, PER_MACHINE, degrading=(plant.machines()[1].id,)):
            producer.send(TELEMETRY, s)

    store_settings = StoreSettings(url=f"sqlite:///{tmp_path}/lw.db")
    store = Store.open(store_settings)
    settings = ScoringSettings(registry_dir=registry_dir, store=store_settings,
                               scoring=ScoringOptions(group_id=unique("g"), score_every=STEP, max_records=500))
    assert settings.kafka.security_protocol == "SASL_SSL"
    worker = ScoringWorker(settings, plant=plant, store=store)
    expected = len(plant.machines()) * PER_MACHINE // STEP
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 240  # returns as soon as done; the slack is for a loaded machine
    while count(store, schema.scores) < expected and time.monotonic() < deadline:
        time.sleep(0.3)
    worker.stop()
    thread.join(30)
    assert not thread.is_alive()

    assert count(store, schema.scores) == expected
    assert len({s["score_id"] for s in read_topic(kafka, SCORES.name, prefix)}) == expected
    assert count(store, schema.alerts) >= 1  # the degrading machine
    alerts = read_topic(kafka, ALERTS.name, prefix)
    assert alerts and {a["machine_id"] for a in alerts} <= {m.id for m in plant.machines()}
    assert not [d for d in read_topic(kafka, DEADLETTER.name, prefix) if d["stage"] == "scoring"]


def test_simulator_publishes_over_sasl_ssl(secure_kafka, secure_env):
    """The simulator's publisher (a separate `linewatch simulate` process) reaches the broker too."""
    sim = linewatch("simulate", "--speed", "0", "--duration-hours", "0.1", "--metrics-port", "0", env=secure_env)
    assert sim.returncode == 0, sim.stderr[-2000:]
    kafka = LineWatchSettings().kafka
    machines = {m.id for m in load_plant(LineWatchSettings().plant_file).machines()}
    seen = {s["machine_id"] for s in read_topic(kafka, TELEMETRY.name, "") if "machine_id" in s}
    assert machines <= seen


def broker_log_since(info: broker.BrokerInfo, offset: int) -> str:
    return info.log_file.read_bytes()[offset:].decode(errors="replace")


@pytest.mark.parametrize(("case", "broker_says"), [
    ("plaintext", "SSL handshake failed"),
    ("wrong-password", "invalid credentials with SASL mechanism SCRAM-SHA-512"),
    ("unknown-user", "invalid credentials with SASL mechanism SCRAM-SHA-512"),
    ("untrusted-ca", None),
])
def test_plaintext_wrong_credentials_and_untrusted_broker_are_refused(secure_kafka, secure_env, tmp_path, caplog,
                                                                      case, broker_says):
    """Each bad client fails to bootstrap; the broker's log names why it dropped the connection."""
    good = LineWatchSettings().kafka
    if case == "plaintext":
        bad = KafkaSettings(bootstrap_servers=good.bootstrap_servers)
    elif case == "wrong-password":
        bad = good.model_copy(update={"sasl_password": SecretStr(secrets.token_urlsafe(18))})
    elif case == "unknown-user":
        bad = good.model_copy(update={"sasl_username": "intruder"})
    else:  # a CA that did not sign the broker's certificate: the client refuses the broker
        other = broker.ensure_tls(tmp_path / "other-ca")
        bad = good.model_copy(update={"ssl_cafile": str(other / "ca.crt")})
    log_offset = secure_kafka.log_file.stat().st_size
    kw = bad.client_kwargs() | {"request_timeout_ms": 3000, "bootstrap_timeout_ms": 3000}
    began = time.monotonic()
    with caplog.at_level(logging.ERROR, logger="kafka"), pytest.raises(KafkaTimeoutError, match="Unable to bootstrap"):
        KafkaAdminClient(**kw).list_topics()
    assert time.monotonic() - began < 30
    if case == "untrusted-ca":  # the client names why it dropped the broker
        assert "CERTIFICATE_VERIFY_FAILED" in caplog.text
    if broker_says is not None:  # the broker names why it closed the connection
        deadline = time.monotonic() + 10
        while broker_says not in broker_log_since(secure_kafka, log_offset) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert broker_says in broker_log_since(secure_kafka, log_offset)



def test_cli_refuses_wrong_credentials_in_one_line(secure_kafka, secure_env):
    """`linewatch kafka topics` with a wrong password: exit 2, one line naming how it connected."""
    wrong = secrets.token_urlsafe(18)
    env = {**secure_env, "LINEWATCH_KAFKA__SASL_PASSWORD": wrong, "LINEWATCH_KAFKA__REQUEST_TIMEOUT_MS": "3000",
           "LINEWATCH_KAFKA__BOOTSTRAP_TIMEOUT_MS": "3000"}
    out = linewatch("kafka", "topics", env=env)
    assert out.returncode == 2, out.stdout + out.stderr
    text = " ".join(out.stderr.split())  # the console may wrap the line
    assert "Traceback" not in text
    assert "cannot use Kafka" in text and "SASL_SSL, SCRAM-SHA-512 as 'linewatch'" in text
    assert wrong not in text and secure_env["LINEWATCH_KAFKA__SASL_PASSWORD"] not in text
