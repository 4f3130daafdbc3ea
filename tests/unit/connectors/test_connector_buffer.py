"""The disk buffer: order, acknowledgement, bounds and policies, seq memory across reopen."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from services.connectors.buffer import BufferFull, DiskBuffer


def recs(n: int, start: int = 0) -> list[tuple[str, bytes, bytes]]:
    return [("t", b"k", str(i).encode()) for i in range(start, start + n)]


def test_fifo_ack_and_survives_reopen(tmp_path: Path) -> None:
    buf = DiskBuffer(tmp_path / "b.sqlite")
    buf.put(recs(5), seqs={"line-1/cnc-01": 4})
    first = buf.peek(3)
    assert [r.value for r in first] == [b"0", b"1", b"2"]
    buf.ack([r.id for r in first])
    buf.close()
    again = DiskBuffer(tmp_path / "b.sqlite")
    assert len(again) == 2 and [r.value for r in again.peek()] == [b"3", b"4"]
    assert again.seqs() == {"line-1/cnc-01": 4}


def test_drop_oldest_keeps_newest_and_counts(tmp_path: Path) -> None:
    dropped: list[int] = []
    buf = DiskBuffer(tmp_path / "b.sqlite", max_records=100, on_drop=dropped.append)
    buf.put(recs(80))
    buf.put(recs(50, start=80))
    assert len(buf) == 100 and sum(dropped) == 30
    assert buf.peek(1)[0].value == b"30"


def test_block_waits_for_space_then_times_out(tmp_path: Path) -> None:
    buf = DiskBuffer(tmp_path / "b.sqlite", max_records=100, policy="block")
    buf.put(recs(100))
    with pytest.raises(BufferFull):
        buf.put(recs(1), timeout_s=0.2)
    freer = threading.Timer(0.2, lambda: buf.ack([r.id for r in buf.peek(10)]))
    freer.start()
    buf.put(recs(5), timeout_s=5)
    assert len(buf) == 95
