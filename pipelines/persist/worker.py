"""The persist stage: consumer group ``linewatch-persist`` on telemetry and events.

It writes every machine event (parts and inspections, energy, failures, maintenance,
state changes, PLC alarms) and per-minute telemetry aggregates for trend charts into the
store through its idempotent upserts, then lets the loop commit. Scores and alerts are
written by the scoring worker itself (the store write is part of "durable before the
commit" there, and it is what the end-to-end latency measures), so this stage never
waits for models. Unknown machines go to the dead-letter topic; absurd signal values
are left out of the aggregates (the same sensor-fault rule as scoring).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter

from contracts.plant import Plant, load_plant
from contracts.topics import EVENTS, TELEMETRY
from pipelines.scoring.sanity import clean, limits_for
from runtime.consumer import ConsumeLoop, GroupMembershipLost, Record, Rejected
from runtime.metrics import PipelineMetrics
from runtime.settings import LineWatchSettings
from store import Store

log = logging.getLogger(__name__)
STAGE = "persist"
GROUP = "linewatch-persist"


class PersistWorker:
    """Events and telemetry minutes into the store, idempotently (at-least-once safe)."""

    def __init__(self, settings: LineWatchSettings, *, plant: Plant | None = None, store: Store | None = None,
                 registry: CollectorRegistry | None = None, group_id: str = GROUP, max_records: int = 5000) -> None:
        self.settings = settings
        plant = plant or load_plant(settings.plant_file)
        self._limits = {m.id: limits_for(m) for m in plant.machines()}
        self.store = store or Store.open(settings.store)
        self.registry = registry if registry is not None else CollectorRegistry()
        self.pipeline = PipelineMetrics.create(self.registry)
        self.rows = Counter("linewatch_persist_rows_total", "Rows written by kind: event, telemetry_sample.",
                            ["kind"], registry=self.registry)
        self.loop: ConsumeLoop | None = None
        self._stop = threading.Event()
        self._group_id, self._max_records = group_id, max_records

    def handle(self, records: list[Record]) -> list[Rejected]:
        """Write one batch; unknown machines are rejected to the dead-letter topic."""
        rejected, events, samples = [], [], []
        for rec in records:
            limits = self._limits.get(rec.value.machine_id)
            if limits is None:
                rejected.append(Rejected(rec, f"unknown machine {rec.value.machine_id!r}: not in plant file "
                                              f"{self.settings.plant_file.name}", "UnknownMachine"))
            elif rec.topic == EVENTS.name:
                events.append(rec.value)
            else:
                signals, faults = clean(rec.value.signals, limits)
                samples.append(rec.value.model_copy(update={"signals": signals}) if faults else rec.value)
        if events:
            self.rows.labels("event").inc(self.store.upsert_events(events))
        if samples:
            self.rows.labels("telemetry_sample").inc(self.store.upsert_telemetry(samples))
        return rejected

    def stop(self) -> None:
        self._stop.set()

    def run(self, until: Callable[[], bool] | None = None) -> None:
        """Consume until stopped (a failure propagates: the batch is replayed on restart)."""
        while True:
            loop = ConsumeLoop(self.settings.kafka, [TELEMETRY, EVENTS], self._group_id, self.handle, STAGE,
                               max_records=self._max_records, metrics=self.pipeline, options=self.settings.consume)
            self.loop = loop  # read by the /healthz check
            try:
                loop.run(until=lambda: self._stop.is_set() or bool(until and until()))
                return
            except GroupMembershipLost:  # a new consumer rejoins; the batch is replayed from the commit
                log.warning("persist: consumer lost its group; rebuilding it", exc_info=True)
