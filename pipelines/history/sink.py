"""Kafka -> Parquet archive stage (consumer group ``linewatch-archive``).

Each poll's records are written before the consume loop commits their offsets, so a crash
loses nothing (the batch is re-read) and duplicates nothing (see ``archive``).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from contracts.messages import MachineEvent, TelemetrySample
from contracts.settings import KafkaSettings
from contracts.topics import EVENTS, TELEMETRY, Topic
from pipelines.history.archive import event_rows, telemetry_rows, write_batch
from runtime.consumer import ConsumeLoop, Record, Rejected

GROUP = "linewatch-archive"
STAGE = "archive"


class ArchiveHandler:
    """Consume-loop handler that appends each batch to the Parquet archive."""

    def __init__(self, root: Path, telemetry_topic: str = TELEMETRY.name) -> None:
        self.root = Path(root)
        self.telemetry_topic = telemetry_topic
        self.rows = {"telemetry": 0, "events": 0}

    def __call__(self, records: list[Record]) -> Iterable[Rejected]:
        by_slice: dict[tuple[str, int], list[Record]] = {}
        for r in records:
            by_slice.setdefault((r.topic, r.partition), []).append(r)
        for (topic, partition), recs in by_slice.items():
            table = "telemetry" if topic == self.telemetry_topic else "events"
            build = telemetry_rows if table == "telemetry" else event_rows
            frame = build([r.value for r in recs])
            write_batch(self.root, table, frame, f"{topic}-p{partition}-o{recs[0].offset:012d}")
            self.rows[table] += len(frame)
        return []


def archive_loop(settings: KafkaSettings, root: Path, group_id: str = GROUP,
                 topics: tuple[Topic[TelemetrySample], Topic[MachineEvent]] = (TELEMETRY, EVENTS),
                 **kw: Any) -> tuple[ConsumeLoop, ArchiveHandler]:
    """A ready consume loop (call ``.run()``) and its handler; ``topics`` = (telemetry, events)."""
    handler = ArchiveHandler(root, topics[0].name)
    return ConsumeLoop(settings, list(topics), group_id, handler, STAGE, **kw), handler
