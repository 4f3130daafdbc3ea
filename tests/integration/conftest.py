"""One real Kafka broker per test session, started through the project's broker module.

If it cannot start, every test that needs it fails with the reason: never a skip.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from contracts.settings import KafkaSettings
from runtime import broker


@pytest.fixture(scope="session")
def kafka(tmp_path_factory: pytest.TempPathFactory) -> broker.BrokerInfo:
    work = tmp_path_factory.mktemp("kafka")
    try:
        info = broker.start(work, timeout_s=120)
    except Exception as exc:  # noqa: BLE001 - report any start failure as a test failure
        pytest.fail(f"real Kafka broker could not start: {exc}", pytrace=False)
    yield info
    broker.stop(work)


@pytest.fixture
def kafka_settings(kafka: broker.BrokerInfo) -> KafkaSettings:
    return KafkaSettings(bootstrap_servers=kafka.bootstrap, topic_partitions=3)


@pytest.fixture
def own_broker(tmp_path: Path) -> Iterator[KafkaSettings]:
    """A broker of this test's own: for code that uses the fixed linewatch.*.v1 topic names (the
    pilot's Kafka loop, the maintainer), which must not share them with other tests."""
    work = tmp_path / "kafka"
    try:
        info = broker.start(work, timeout_s=120)
    except Exception as exc:  # noqa: BLE001 - a broker that cannot start is a failure, never a skip
        pytest.fail(f"real Kafka broker could not start: {exc}", pytrace=False)
    yield KafkaSettings(bootstrap_servers=info.bootstrap, topic_partitions=2)
    broker.stop(work)


@pytest.fixture(scope="session")
def postgres_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A real PostgreSQL cluster for the session (``scripts/postgres.sh``); fails, never skips."""
    import subprocess
    from pathlib import Path

    script = Path(__file__).resolve().parents[2] / "scripts" / "postgres.sh"
    work = str(tmp_path_factory.mktemp("pg"))
    done = subprocess.run([str(script), "start", work], capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        pytest.fail(f"real PostgreSQL could not start: {done.stderr.strip()}", pytrace=False)
    yield done.stdout.strip().splitlines()[-1]
    subprocess.run([str(script), "destroy", work], capture_output=True, timeout=120)


@pytest.fixture(scope="session")
def registry_dir(tmp_path_factory: pytest.TempPathFactory):
    """A registry with small real LightGBM champions per kind, shared by the scoring tests."""
    from pipelines.testing.toymodel import publish_toy_champions

    path = tmp_path_factory.getbasetemp() / "scoring-registry"
    if not (path / "index.json").exists():
        publish_toy_champions(path)
    return path
