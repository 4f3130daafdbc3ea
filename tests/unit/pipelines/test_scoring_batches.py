"""The scoring worker's per-poll path keeps its outputs when it is made faster.

A fixed input (the demo plant, 160 samples per machine, with every kind of bad record the
scorer handles: malformed JSON, unknown machine, out of order, duplicate, time jump,
stuck / spiking / missing / out-of-range signals, idle stretches, maintenance events) goes
through decode -> ``ScoringWorker.handle`` in polls of 250 records, with toy champions for
both kinds. Every score, alert event and dead letter (with its reason) is compared with
``snapshots/scoring_batches.jsonl``, written by the per-record path this replaced.
Regenerate it only for an intended change of outputs:
``LINEWATCH_WRITE_SNAPSHOT=1 .venv/bin/python -m pytest tests/unit/pipelines/test_scoring_batches.py``.
"""

from __future__ import annotations

import json
import os
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from contracts.messages import MachineState, MaintenanceDone, TelemetrySample
from contracts.plant import load_plant
from contracts.settings import StoreSettings
from contracts.topics import EVENTS, TELEMETRY
from pipelines.health import AlertRules
from pipelines.scoring.engine import ScoringEngine
from pipelines.scoring.settings import ScoringOptions, ScoringSettings
from pipelines.scoring.worker import ScoringWorker
from pipelines.testing.samplestream import samples
from pipelines.testing.toymodel import publish_toy_champions
from runtime.consumer import ConsumeLoop
from runtime.settings import LineWatchSettings
from store import Store

SNAPSHOT = Path(__file__).parent / "snapshots" / "scoring_batches.jsonl"
PLANT = load_plant(LineWatchSettings().plant_file)
PER_MACHINE, POLL = 160, 250


class _Producer:
    """Keeps what the worker publishes (encoded through the topic, as the real one does)."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []

    def send(self, topic: Any, message: Any) -> None:
        self.sent.append((topic.name, json.loads(topic.encode(message))))

    def flush(self, timeout: float | None = None) -> None:
        pass


def _raw(topic: str, value: bytes, offset: int, ts_ms: int, key: str = "") -> SimpleNamespace:
    return SimpleNamespace(topic=topic, partition=0, offset=offset, key=key.encode(), value=value, timestamp=ts_ms)


def _input() -> list[SimpleNamespace]:
    """The fixed input: a seeded sample stream with bad records mixed in at fixed places."""
    cnc1, cnc2, cnc3, robot1, robot2 = ("line-1/cnc-01", "line-1/cnc-02", "line-1/cnc-03", "line-2/robot-01",
                                        "line-2/robot-02")
    degrading = ("line-1/cnc-04", "line-2/robot-03")
    out: list[SimpleNamespace] = []
    stream = list(samples(PLANT, PER_MACHINE, seed=11, degrading=degrading))
    for i, s in enumerate(stream):
        ms = int(s.ts.timestamp() * 1000) + 2_000
        step = s.seq
        if s.machine_id == cnc1 and 40 <= step < 60:  # a stuck bearing sensor
            s = s.model_copy(update={"signals": {**s.signals, "spindle_bearing_temp_c": 41.5}})
        if s.machine_id == cnc2 and step in (50, 70, 71, 72):  # a spike, then a short burst
            s = s.model_copy(update={"signals": {**s.signals, "spindle_vibration_rms_mm_s": 60.0}})
        if s.machine_id == cnc3 and 30 <= step < 36:  # dropouts: missing after three
            s = s.model_copy(update={"signals": {**s.signals, "coolant_pressure_bar": None}})
        if s.machine_id == robot1 and step == 90:  # outside the physical range
            s = s.model_copy(update={"signals": {**s.signals, "joint2_temp_c": 900.0}})
        if s.machine_id == robot2 and 100 <= step < 115:  # idle for a while
            s = s.model_copy(update={"state": MachineState.IDLE})
        out.append(_raw(TELEMETRY.name, TELEMETRY.encode(s), i, ms, s.machine_id))
        if s.machine_id == cnc1 and step == 80:  # the same sample again (a producer retry)
            out.append(_raw(TELEMETRY.name, TELEMETRY.encode(s), i, ms, s.machine_id))
        if s.machine_id == cnc2 and step == 90:  # an older sample: out of order
            old = s.model_copy(update={"ts": s.ts - timedelta(minutes=30), "seq": s.seq + 500})
            out.append(_raw(TELEMETRY.name, TELEMETRY.encode(old), i, ms, s.machine_id))
        if s.machine_id == cnc3 and step == 100:  # stamped days ahead of its record time
            ahead = s.model_copy(update={"ts": s.ts + timedelta(days=3), "seq": s.seq + 1})
            out.append(_raw(TELEMETRY.name, TELEMETRY.encode(ahead), i, ms, s.machine_id))
        if s.machine_id == robot1 and step == 120:
            out.append(_raw(TELEMETRY.name, b'{"machine_id": "line-2/robot-01", "ts": ', i, ms, s.machine_id))
            stranger = TelemetrySample(machine_id="line-9/cnc-99", ts=s.ts, seq=1, signals={"x_c": 1.0})
            out.append(_raw(TELEMETRY.name, TELEMETRY.encode(stranger), i, ms, stranger.machine_id))
        if s.machine_id == cnc1 and step == 130:
            done = MaintenanceDone(event_id="m1", machine_id=cnc1, ts=s.ts, action="replace_tool", component="tool",
                                   planned=True, duration_s=600.0)
            out.append(_raw(EVENTS.name, EVENTS.encode(done), i, ms, cnc1))
    for offset, rec in enumerate(out):
        rec.offset = offset
    return out


def _outputs(tmp_path: Path) -> dict[str, Any]:
    versions = publish_toy_champions(tmp_path / "reg")  # named by registration time: replaced below
    opts = ScoringOptions(explain_every=3)
    settings = ScoringSettings(registry_dir=tmp_path / "reg", scoring=opts)
    worker = ScoringWorker(settings, plant=PLANT, store=Store.open(StoreSettings(url=f"sqlite:///{tmp_path}/lw.db")))
    worker.engine = ScoringEngine(PLANT, {}, AlertRules(raise_after=opts.raise_after, clear_after=opts.clear_after,
                                                        clear_ratio=opts.clear_ratio),
                                  extra_rows=opts.max_records, top_k=opts.top_k, explain_every=opts.explain_every,
                                  order=opts.order_rules())
    worker._reload(force=True)  # noqa: SLF001 - loads the champions, as run() does, without the consume loop
    producer = worker.producer = _Producer()
    worker.loop = SimpleNamespace(consumer=None)  # type: ignore[assignment]
    decoder = SimpleNamespace(_topics={TELEMETRY.name: TELEMETRY, EVENTS.name: EVENTS})
    raws, rejected = _input(), []
    for i in range(0, len(raws), POLL):
        oks, errs = ConsumeLoop._decode(decoder, raws[i:i + POLL])  # noqa: SLF001 - the loop's own decode step
        rejected += [[r.record.offset, r.error_type, r.reason] for r in errs]
        rejected += [[r.record.offset, r.error_type, r.reason] for r in worker.handle(oks)]
    outcomes = {s.labels["outcome"]: s.value for m in worker.metrics.registry.collect()
                if m.name == "linewatch_scoring_records" for s in m.samples if s.name.endswith("_total")}
    published = json.dumps([[topic, _rounded(v)] for topic, v in producer.sent])
    for kind, version in versions.items():
        published = published.replace(version, f"{kind}-champion")
    return {"rejected": sorted(rejected), "outcomes": dict(sorted(outcomes.items())),
            "published": json.loads(published)}


def _rounded(value: Any) -> Any:
    """Floats to 9 significant digits: the snapshot holds what the scorer decides, not the last bit."""
    if isinstance(value, float):
        return float(f"{value:.9g}")
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    return value


def test_the_per_poll_path_gives_the_snapshot_outputs(tmp_path: Path) -> None:
    got = _outputs(tmp_path)
    if os.environ.get("LINEWATCH_WRITE_SNAPSHOT"):
        SNAPSHOT.parent.mkdir(exist_ok=True)
        lines = [got["outcomes"], got["rejected"], *got["published"]]  # one message a line: readable diffs
        SNAPSHOT.write_text("".join(json.dumps(x, sort_keys=True, ensure_ascii=False) + "\n" for x in lines))
        pytest.skip("snapshot written")
    outcomes, rejected, *published = [json.loads(line) for line in SNAPSHOT.read_text().splitlines()]
    want = {"outcomes": outcomes, "rejected": rejected, "published": published}
    # the input exercises what it claims to: every kind of reject, sensor faults, scores and alerts
    kinds = {error for _, error, _ in want["rejected"]}
    assert {"ContractError", "UnknownMachine", "OutOfOrder", "TimeJumpAhead"} <= kinds
    topics = [t for t, _ in want["published"]]
    assert topics.count("linewatch.scores.v1") > 200 and topics.count("linewatch.alerts.v1") >= 3
    assert want["outcomes"].get("duplicate") and want["outcomes"].get("sensor_fault")
    assert got["rejected"] == want["rejected"]
    assert got["outcomes"] == want["outcomes"]
    assert len(got["published"]) == len(want["published"])
    for i, (g, w) in enumerate(zip(got["published"], want["published"], strict=True)):
        assert g == w, f"published message {i} differs"
