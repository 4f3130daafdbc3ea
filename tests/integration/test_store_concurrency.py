"""Workers start together and each opens (and migrates) the store: that must not race."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

OPEN = ("from contracts.settings import StoreSettings; from store import Store; "
        "import sys; Store.open(StoreSettings(url=sys.argv[1])).close()")


def open_concurrently(url: str, n: int = 4) -> list[subprocess.CompletedProcess[str]]:
    procs = [subprocess.Popen([sys.executable, "-c", OPEN, url], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for _ in range(n)]
    return [subprocess.CompletedProcess(p.args, p.wait(timeout=120), *p.communicate()) for p in procs]


def assert_all_migrated(url: str, results: list[subprocess.CompletedProcess[str]]) -> None:
    failures = [r.stderr[-500:] for r in results if r.returncode != 0]
    assert not failures, failures
    from sqlalchemy import inspect

    from contracts.settings import StoreSettings
    from store.database import create_store_engine, current_revision

    engine = create_store_engine(StoreSettings(url=url))
    assert current_revision(engine) is not None
    assert "alembic_version" in inspect(engine).get_table_names()
    engine.dispose()


def test_concurrent_opens_on_sqlite(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'race.db'}"
    assert_all_migrated(url, open_concurrently(url))


def test_concurrent_opens_on_postgresql(postgres_url: str) -> None:
    import uuid

    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    fresh = f"race_{uuid.uuid4().hex[:8]}"  # an empty database, so every process really migrates
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE {fresh}")
    admin.dispose()
    url = make_url(postgres_url).set(database=fresh).render_as_string(hide_password=False)
    assert_all_migrated(url, open_concurrently(url))
