"""History mode: N simulated days of the plant written as Parquet tables, as fast as possible.

Output (``docs/data-format.md``): ``<out>/telemetry.parquet`` (machine_id, ts, seq, state,
program, tool_id, part_id, one float column per signal) and ``<out>/events.parquet``
(event_id, machine_id, ts, kind and the kind's fields, inspection measurements as
columns), both sorted by machine then time. Machines draw from their own generators, so
simulating them one after another gives exactly the stream the live publisher sends for
the same plant and seed (without commands).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from contracts.messages import TelemetrySample
from contracts.plant import Plant
from simulators.physics.line import DEFAULT_START, Line
from simulators.physics.machine import Event

META = [("machine_id", pa.string()), ("ts", pa.timestamp("us", tz="UTC")), ("seq", pa.int64()),
        ("state", pa.string()), ("program", pa.string()), ("tool_id", pa.string()), ("part_id", pa.string())]
EVENT_FIELDS = [
    ("event_id", pa.string()), ("machine_id", pa.string()), ("ts", pa.timestamp("us", tz="UTC")),
    ("kind", pa.string()), ("mode", pa.string()), ("component", pa.string()), ("description", pa.string()),
    ("part_id", pa.string()), ("good", pa.bool_()), ("defect_type", pa.string()), ("cycle_time_s", pa.float64()),
    ("ideal_cycle_time_s", pa.float64()), ("energy_kwh", pa.float64()), ("action", pa.string()),
    ("planned", pa.bool_()), ("duration_s", pa.float64()), ("reason", pa.string()), ("command_id", pa.string()),
    ("parts_cost", pa.float64()), ("from_state", pa.string()), ("to_state", pa.string()),
]
MEASUREMENTS = ["surface_roughness_ra_um", "diameter_deviation_mm", "placement_error_mm", "grip_pressure_bar"]


@dataclass(frozen=True)
class HistorySummary:
    """What a history run wrote and how fast."""

    telemetry_path: Path
    events_path: Path
    samples: int
    events: int
    seconds: float

    @property
    def samples_per_s(self) -> float:
        return self.samples / self.seconds if self.seconds > 0 else float("inf")


def telemetry_table(samples: list[TelemetrySample], signals: list[str], schema: pa.Schema) -> pa.Table:
    """Column-wise Arrow table of samples (missing signals are nulls)."""
    cols: dict[str, list] = {
        "machine_id": [s.machine_id for s in samples], "ts": [s.ts for s in samples],
        "seq": [s.seq for s in samples], "state": [s.state.value for s in samples],
        "program": [s.program for s in samples], "tool_id": [s.tool_id for s in samples],
        "part_id": [s.part_id for s in samples],
    }
    for name in signals:
        cols[name] = [s.signals.get(name) for s in samples]
    return pa.Table.from_pydict(cols, schema=schema)


def events_table(events: list[Event], schema: pa.Schema) -> pa.Table:
    """Arrow table of events with the import-format columns."""
    cols: dict[str, list] = {name: [] for name in schema.names}
    for e in events:
        data = e.__dict__
        for name, _ in EVENT_FIELDS:
            value = data.get(name)
            cols[name].append(value.value if hasattr(value, "value") else value)
        measured = data.get("measurements") or {}
        for name in MEASUREMENTS:
            cols[name].append(measured.get(name))
    return pa.Table.from_pydict(cols, schema=schema)


def write_history(plant: Plant, out: Path, days: float, seed: int = 7, start: datetime = DEFAULT_START,
                  chunk: timedelta = timedelta(days=2), progress: Callable[[int], None] | None = None,
                  line: Line | None = None) -> HistorySummary:
    """Simulate ``days`` of every machine and write the two tables; ``progress(n)`` gets samples done."""
    out.mkdir(parents=True, exist_ok=True)
    line = line or Line(plant, seed=seed, start=start)
    end = line.now + timedelta(days=days)
    signals = sorted({s.name for m in plant.machines() for s in m.sensors})
    tel_schema = pa.schema(META + [(n, pa.float64()) for n in signals])
    ev_schema = pa.schema(EVENT_FIELDS + [(n, pa.float64()) for n in MEASUREMENTS])
    tel_path, ev_path = out / "telemetry.parquet", out / "events.parquet"
    began = time.perf_counter()
    n_samples = n_events = 0
    with pq.ParquetWriter(tel_path, tel_schema, compression="zstd") as tel_w, \
            pq.ParquetWriter(ev_path, ev_schema, compression="zstd") as ev_w:
        for machine in line.machines.values():  # machine-major: the tables come out sorted
            while machine.now < end:
                samples, events = [], []
                stop = min(end, machine.now + chunk)
                while machine.now + timedelta(seconds=machine.period_s) <= stop:
                    sample, evs = machine.tick()
                    samples.append(sample)
                    events.extend(evs)
                if not samples:
                    break
                tel_w.write_table(telemetry_table(samples, signals, tel_schema))
                if events:
                    ev_w.write_table(events_table(events, ev_schema))
                n_samples += len(samples)
                n_events += len(events)
                if progress:
                    progress(len(samples))
    return HistorySummary(tel_path, ev_path, n_samples, n_events, time.perf_counter() - began)


def expected_samples(plant: Plant, days: float) -> int:
    """How many samples ``days`` of this plant produce (for progress bars)."""
    return sum(int(days * 86400 // m.sample_period_s) for m in plant.machines())
