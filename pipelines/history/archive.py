"""Parquet history archive: rows in the import format (``docs/data-format.md``), partitioned
``<root>/<table>/date=YYYY-MM-DD/machine=<line>__<machine>/part-*.parquet``.

Idempotent by construction: a part file is named after the Kafka coordinates of its first
row (topic, partition, offset), so a batch replayed after a crash overwrites its own file;
when a replay starts at another offset, the duplicates are removed by ``read_archive`` and
``compact`` (key: ``machine_id, ts`` for telemetry, ``event_id`` for events).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from contracts.messages import TelemetrySample

TABLES = ("telemetry", "events")
KEYS = {"telemetry": ["machine_id", "ts"], "events": ["event_id"]}


def telemetry_rows(samples: Iterable[TelemetrySample]) -> pd.DataFrame:
    """One row per sample: machine_id, ts, seq, state, then one column per signal."""
    recs = [{"machine_id": s.machine_id, "ts": s.ts, "seq": s.seq, "state": str(s.state), **s.signals}
            for s in samples]
    return pd.DataFrame(recs)


def event_rows(events: Iterable[Any]) -> pd.DataFrame:
    """One row per event with the import-format columns (kind-specific fields kept)."""
    recs = []
    for e in events:
        row = e.model_dump(mode="python", exclude={"schema_version", "measurements"})
        for k in ("from_state", "to_state"):
            if k in row:
                row[k] = str(row[k])
        recs.append(row)
    return pd.DataFrame(recs)


def _folder(machine_id: str) -> str:
    return "machine=" + machine_id.replace("/", "__")


def write_batch(root: Path, table: str, frame: pd.DataFrame, batch_key: str) -> list[Path]:
    """Write ``frame`` split by day and machine; file name = ``part-<batch_key>.parquet``."""
    if frame.empty:
        return []
    frame = frame.assign(ts=pd.to_datetime(frame["ts"], utc=True))
    written = []
    for (day, machine), part in frame.groupby([frame["ts"].dt.strftime("%Y-%m-%d"), "machine_id"], sort=True):
        folder = root / table / f"date={day}" / _folder(machine)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"part-{batch_key}.parquet"
        tmp = folder / f".{path.name}.{uuid.uuid4().hex[:6]}.tmp"
        part.to_parquet(tmp, index=False)
        os.replace(tmp, path)  # readers never see half a file
        written.append(path)
    return written


def _read_folder(folder: Path) -> pd.DataFrame:
    files = sorted(folder.glob("part-*.parquet"))
    return pd.concat([pd.read_parquet(f) for f in files], ignore_index=True) if files else pd.DataFrame()


def read_archive(root: Path, table: str) -> pd.DataFrame:
    """The whole table, duplicates removed, sorted by machine and time."""
    base = root / table
    parts = [_read_folder(d) for d in sorted(base.glob("date=*/machine=*"))] if base.exists() else []
    parts = [p for p in parts if len(p)]
    if not parts:
        return pd.DataFrame()
    frame = pd.concat(parts, ignore_index=True)
    frame = frame.drop_duplicates(subset=KEYS[table], keep="last")
    return frame.sort_values(["machine_id", "ts"], kind="stable").reset_index(drop=True)


def compact(root: Path) -> int:
    """Rewrite each partition as one de-duplicated file; returns duplicate rows dropped."""
    dropped = 0
    for table in TABLES:
        for folder in sorted((root / table).glob("date=*/machine=*")) if (root / table).exists() else []:
            files = sorted(folder.glob("part-*.parquet"))
            if len(files) <= 1:
                continue
            frame = _read_folder(folder)
            clean = frame.drop_duplicates(subset=KEYS[table], keep="last").sort_values("ts", kind="stable")
            dropped += len(frame) - len(clean)
            target = folder / "part-compacted.parquet"
            tmp = folder / f".compact.{uuid.uuid4().hex[:6]}.tmp"
            clean.to_parquet(tmp, index=False)
            os.replace(tmp, target)
            for f in files:
                if f != target:
                    f.unlink()
    return dropped
