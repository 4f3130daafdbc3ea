"""The scoring worker: consumer group ``linewatch-scoring`` on telemetry and events.

Per poll: decode (bad records → dead letters, by ``runtime.consumer.ConsumeLoop``),
apply the bad-input policy, score the due windows in one model call per kind, write
scores and alert events to the store, publish them, flush the producer — and only then
does the loop commit the offsets. A crash anywhere before the commit replays the batch;
every effect is an idempotent upsert or a message with a deterministic id.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from kafka import ConsumerRebalanceListener, TopicPartition

from contracts.plant import Plant, load_plant
from contracts.topics import ALERTS, EVENTS, SCORES, TELEMETRY
from pipelines.health import AlertRules
from pipelines.models import Registry
from pipelines.scoring.buffers import REJECTING, Outcome
from pipelines.scoring.engine import ScoringEngine
from pipelines.scoring.metrics import ScoringMetrics
from pipelines.scoring.rebuild import rebuild
from pipelines.scoring.sanity import screen
from pipelines.scoring.settings import ScoringSettings
from pipelines.scoring.storeview import last_scored, open_alerts_before, recent_events
from runtime.consumer import ConsumeLoop, LoopProgress, Record, Rejected
from runtime.producer import Producer
from store import Store

log = logging.getLogger(__name__)
STAGE = "scoring"


class _Listener(ConsumerRebalanceListener):  # type: ignore[misc]  # kafka-python ships no types: its base is Any
    """Runs on kafka-python's IO thread, where no blocking client call is allowed: it only
    notes the change; the worker rebuilds in its own thread before the next batch."""

    def __init__(self, worker: ScoringWorker) -> None:
        self.worker = worker

    def on_partitions_revoked(self, revoked: Any) -> None:
        self.worker.revoked |= set(revoked)

    def on_partitions_assigned(self, assigned: Any) -> None:
        self.worker.pending_assignment = set(assigned)


class ScoringWorker:
    """One scoring process; several of them share the work through the consumer group."""

    def __init__(self, settings: ScoringSettings, *, plant: Plant | None = None, store: Store | None = None,
                 metrics: ScoringMetrics | None = None) -> None:
        self.settings = settings
        self.plant = plant or load_plant(settings.plant_file)
        self.registry = Registry(settings.registry_dir)
        self.store = store or Store.open(settings.store)
        self.metrics = metrics or ScoringMetrics.create()
        self.revoked: set[TopicPartition] = set()
        self.pending_assignment: set[TopicPartition] | None = None
        self.held: set[TopicPartition] = set()
        self._machines_of: dict[TopicPartition, set[str]] = {}
        self._stop = threading.Event()
        self._next_reload = 0.0
        self.loop: ConsumeLoop | None = None  # None until run() builds it (the probes check for that)
        self._engine: ScoringEngine | None = None
        self._time_rules = settings.scoring.time_rules()
        self._sensors = {m.id: frozenset(s.name for s in m.sensors) for m in self.plant.machines()}
        self.progress = LoopProgress()  # outlives the loop: /healthz sees restarts without progress

    @property
    def engine(self) -> ScoringEngine:
        """The scoring engine (built by ``run``, rebuilt after a failure)."""
        if self._engine is None:
            raise RuntimeError("the scoring worker has no engine yet: it is built by run()")
        return self._engine

    @engine.setter
    def engine(self, engine: ScoringEngine) -> None:
        self._engine = engine

    # ---------- life cycle
    def _build(self) -> ConsumeLoop:
        opts = self.settings.scoring
        rules = AlertRules(raise_after=opts.raise_after, clear_after=opts.clear_after, clear_ratio=opts.clear_ratio)
        self.engine = ScoringEngine(self.plant, {}, rules, score_every=opts.score_every,
                                    extra_rows=opts.max_records, top_k=opts.top_k,
                                    explain_every=opts.explain_every, order=opts.order_rules())
        self._reload(force=True)
        self.producer = Producer(self.settings.kafka)
        loop = self.loop = ConsumeLoop(self.settings.kafka, [TELEMETRY, EVENTS], opts.group_id, self.handle, STAGE,
                                        max_records=opts.max_records, poll_timeout_ms=opts.poll_timeout_ms,
                                        metrics=self.metrics.pipeline, producer=self.producer,
                                        options=self.settings.consume, progress=self.progress)
        loop.consumer.subscribe([TELEMETRY.name, EVENTS.name], listener=_Listener(self))
        self.held, self._machines_of, self.revoked, self.pending_assignment = set(), {}, set(), None
        return loop

    def _teardown(self) -> None:
        closers: list[Callable[[], None]] = [lambda: self.producer.close(timeout=5)]
        if self.loop is not None:
            closers.insert(0, self.loop.close)
        for close in closers:
            try:
                close()
            except Exception:
                log.debug("close failed", exc_info=True)

    def stop(self) -> None:
        """Finish the current batch and return from ``run``."""
        self._stop.set()

    def run(self, until: Callable[[], bool] | None = None) -> None:
        """Consume until stopped; after an error, rebuild everything and carry on (supervised)."""
        while not self._stop.is_set() and not (until and until()):
            try:
                loop = self._build()
                loop.run(until=lambda: self._tick() or bool(until and until()))
                self.producer.flush()
                self.producer.close()
                return
            except Exception as exc:
                log.exception("scoring worker failed; restarting from the committed offsets")
                self.metrics.restarts.inc()
                self.progress.failed(exc)
                self._teardown()
                time.sleep(self.settings.scoring.restart_backoff_s)
        self._teardown()

    def _tick(self) -> bool:
        self._apply_assignment()
        if time.monotonic() >= self._next_reload:
            self._reload()
        return self._stop.is_set()

    def _reload(self, force: bool = False) -> None:
        """Swap in newly promoted champions (checked every ``reload_every_s``)."""
        self._next_reload = time.monotonic() + self.settings.scoring.reload_every_s
        for kind in sorted(set(self.engine.kinds.values())):
            version = self.registry.champion_version(kind)
            current = self.engine.bundles.get(kind)
            if version is None or (current is not None and current.version == version and not force):
                continue
            bundle = self.registry.champion(kind)
            if bundle is None:  # the champion was demoted between the two reads: keep scoring with the current one
                continue
            version = bundle.version
            self.engine.set_bundle(kind, bundle)
            if current is not None:
                self.metrics.model.remove(kind, current.version)
            self.metrics.model.labels(kind, version).set(1)
            log.info("scoring %s with champion %s", kind, version)

    # ---------- rebalance
    def _apply_assignment(self) -> None:
        assigned, self.pending_assignment = self.pending_assignment, None
        if assigned is not None:
            self.assigned(assigned)

    def assigned(self, assigned: set[TopicPartition]) -> None:
        """Keep state of partitions still held; rebuild the new ones from Kafka."""
        if self.loop is None:
            raise RuntimeError("assigned() belongs to a running worker: its consume loop does not exist yet")
        gone = (self.held | self.revoked) - assigned
        lost = set().union(*(self._machines_of.pop(tp, set()) for tp in gone)) if gone else set()
        self.engine.forget(lost)
        new = sorted(assigned - self.held, key=lambda tp: (tp.topic, tp.partition))
        n, machines = rebuild(self.engine, self.settings.kafka, self.loop.consumer, new,
                              lambda ids: recent_events(self.store, ids), self.settings.scoring.event_replay,
                              self._machines_of, time_rules=self._time_rules,
                              store_scored=lambda ids: last_scored(self.store, ids))
        self.metrics.rebuild_records.inc(n)
        self.held, self.revoked = set(assigned), set()
        log.info("assigned %d partitions, %d new: replayed %d records for %d machines",
                 len(assigned), len(new), n, len(machines))

    # ---------- one batch
    def handle(self, records: list[Record]) -> list[Rejected]:
        """Apply the bad-input policy, score, make outputs durable; return the rejects."""
        self._apply_assignment()  # before the first records of a new partition are used
        rejected: list[Rejected] = []
        counted: dict[Outcome, int] = {}
        n_screened = n_order = n_unknown = 0
        machines_of: dict[tuple[str, int], set[str]] = {}  # per partition, noted once per batch below
        engine, sensors_of, rules = self.engine, self._sensors, self._time_rules  # looked up once per batch
        kinds, ingest, events_topic = engine.kinds, engine.ingest, EVENTS.name
        for rec in records:
            value = rec.value
            machine_id = value.machine_id
            if machine_id not in kinds:
                rejected.append(Rejected(rec, f"unknown machine {machine_id!r}: not in plant file "
                                              f"{self.settings.plant_file.name}", "UnknownMachine"))
                continue
            if rec.topic == events_topic:
                engine.add_event(value)
                continue
            sensors = sensors_of[machine_id]
            verdict = screen(value, rec.timestamp_ms, rules, sensors, self.settings.plant_file.name)
            if verdict is not None:
                rejected.append(Rejected(rec, verdict[1], verdict[0]))
                n_screened += 1
                continue
            n_unknown += len(value.signals.keys() - sensors)
            machines_of.setdefault((rec.topic, rec.partition), set()).add(machine_id)
            outcome, faults = ingest(value, rec.timestamp_ms)
            counted[outcome] = counted.get(outcome, 0) + 1
            if outcome in REJECTING:
                rejected.append(Rejected(rec, engine.rejection, REJECTING[outcome]))
                n_order += 1  # counted under its own outcome above
                continue
            if outcome is Outcome.REANCHORED:
                log.warning("%s: timeline moved to %s after %d agreeing rejected samples", machine_id,
                            value.ts.isoformat(), self.settings.scoring.reanchor_after)
            for name in faults:
                self.metrics.signal_faults.labels(name).inc()
        outcomes = {o.value: n for o, n in counted.items()}
        if n_unknown:
            self.metrics.unknown_signals.inc(n_unknown)
        for (topic, partition), ids in machines_of.items():
            self._machines_of.setdefault(TopicPartition(topic, partition), set()).update(ids)
        if len(rejected) > n_screened + n_order:
            outcomes[Outcome.UNKNOWN_MACHINE.value] = len(rejected) - n_screened - n_order
        if n_screened:
            outcomes["rejected"] = n_screened
        for name, n in outcomes.items():
            self.metrics.outcomes.labels(name).inc(n)
        self._emit()
        return rejected

    def _emit(self) -> None:
        batch = self.engine.score_pending(lambda m, ts: open_alerts_before(self.store, m, ts))
        if batch.unscored:
            self.metrics.outcomes.labels("no_model").inc(batch.unscored)
        if not batch.scores and not batch.alerts:
            return
        if batch.scores:
            self.store.upsert_scores(batch.scores)
        if batch.alerts:
            self.store.upsert_alert_events(batch.alerts)
        for score in batch.scores:
            self.producer.send(SCORES, score)
        for alert in batch.alerts:
            self.producer.send(ALERTS, alert)
            self.metrics.alerts.labels(alert.action.value).inc()
        self.producer.flush()
        now_ms = time.time() * 1000
        for ms in batch.record_ms:
            self.metrics.latency.observe(max(0.0, (now_ms - ms) / 1000))
        self.metrics.scores.inc(len(batch.scores))
