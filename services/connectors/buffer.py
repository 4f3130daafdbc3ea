"""Store-and-forward: a bounded, ordered queue of Kafka records in one SQLite file.

Every record a connector produces is written here first (write-ahead) and deleted only
after Kafka acknowledged it, so a Kafka outage or a connector crash loses nothing.
The file also keeps each machine's last sequence number, so ``seq`` survives restarts.

When the queue holds ``max_records``:
- ``drop_oldest`` (default): the oldest records are deleted to make room and counted
  in ``linewatch_connector_buffer_dropped_total``; the newest data is usually worth more.
- ``block``: ``put`` waits until the forwarder frees space; the source stops reading,
  so the PLC side (OPC UA queue, MQTT broker session, Modbus poll) holds the backlog.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from contracts.errors import LineWatchError

FullPolicy = Literal["drop_oldest", "block"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS queue (id INTEGER PRIMARY KEY AUTOINCREMENT, topic TEXT NOT NULL,
                                  key BLOB, value BLOB NOT NULL, created_s REAL NOT NULL);
CREATE TABLE IF NOT EXISTS seqs (machine_id TEXT PRIMARY KEY, seq INTEGER NOT NULL);
"""


@dataclass(frozen=True)
class Record:
    id: int
    topic: str
    key: bytes | None
    value: bytes


class BufferFull(LineWatchError):
    """``block`` policy: no space freed within the timeout."""


class DiskBuffer:
    """Thread-safe; sources ``put`` from their threads, the forwarder ``peek``s and ``ack``s."""

    def __init__(self, path: Path, max_records: int = 1_000_000, policy: FullPolicy = "drop_oldest",
                 on_drop=None) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.max_records = max_records
        self.policy = policy
        self._on_drop = on_drop or (lambda n: None)
        self._lock = threading.Lock()
        self._space = threading.Condition(self._lock)
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: durable across process crashes
        self._db.executescript(_SCHEMA)
        self._count = self._db.execute("SELECT COUNT(*) FROM queue").fetchone()[0]
        self.new_data = threading.Event()

    def __len__(self) -> int:
        return self._count

    def seqs(self) -> dict[str, int]:
        with self._lock:
            return dict(self._db.execute("SELECT machine_id, seq FROM seqs").fetchall())

    def put(self, records: list[tuple[str, bytes | None, bytes]], seqs: dict[str, int] | None = None,
            timeout_s: float = 3600.0) -> int:
        """Append records (and the machines' new last seq) in one transaction; returns records dropped."""
        if not records:
            return 0
        dropped = 0
        with self._space:
            if self.policy == "block":
                deadline = time.monotonic() + timeout_s
                while self._count + len(records) > self.max_records:
                    if not self._space.wait(timeout=max(0.0, deadline - time.monotonic())):
                        raise BufferFull(f"disk buffer {self.path} full ({self._count} records) for {timeout_s}s")
            now = time.time()
            self._db.execute("BEGIN")
            try:
                self._db.executemany("INSERT INTO queue (topic, key, value, created_s) VALUES (?, ?, ?, ?)",
                                     [(t, k, v, now) for t, k, v in records])
                if seqs:
                    self._db.executemany("INSERT INTO seqs VALUES (?, ?) ON CONFLICT(machine_id) "
                                         "DO UPDATE SET seq = excluded.seq", list(seqs.items()))
                self._count += len(records)
                if self._count > self.max_records:
                    dropped = self._count - self.max_records
                    self._db.execute("DELETE FROM queue WHERE id IN (SELECT id FROM queue ORDER BY id LIMIT ?)",
                                     (dropped,))
                    self._count -= dropped
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                self._count = self._db.execute("SELECT COUNT(*) FROM queue").fetchone()[0]
                raise
        if dropped:
            self._on_drop(dropped)
        self.new_data.set()
        return dropped

    def peek(self, limit: int = 500) -> list[Record]:
        """The oldest records, in order, without removing them."""
        with self._lock:
            rows = self._db.execute("SELECT id, topic, key, value FROM queue ORDER BY id LIMIT ?",
                                    (limit,)).fetchall()
        return [Record(*r) for r in rows]

    def ack(self, ids: list[int]) -> None:
        """Remove records Kafka acknowledged."""
        if not ids:
            return
        with self._space:
            self._db.execute("BEGIN")
            cur = self._db.executemany("DELETE FROM queue WHERE id = ?", [(i,) for i in ids])
            self._db.execute("COMMIT")
            self._count = max(0, self._count - cur.rowcount)
            self._space.notify_all()

    def close(self) -> None:
        with self._lock:
            self._db.close()
