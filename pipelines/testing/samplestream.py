"""A seeded stream of telemetry samples for a plant, for tests and the benchmark.

Signals wander inside their normal range from the plant file; machines listed in
``degrading`` drift upwards over the stream so the models and alert rules have
something to react to. (The physics simulator in ``simulators/`` is the real line;
this is the lightweight deterministic source, in the spirit of a demo source with
injected randomness, count and clock.)
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import numpy as np

from contracts.messages import TelemetrySample
from contracts.plant import Plant

T0 = datetime(2026, 1, 5, tzinfo=UTC)


def samples(plant: Plant, per_machine: int, *, seed: int = 0, start: datetime = T0, period_s: float = 60.0,
            degrading: tuple[str, ...] = (), first_seq: int = 0) -> Iterator[TelemetrySample]:
    """``per_machine`` samples of every machine, interleaved in time order."""
    rng = np.random.default_rng(seed)
    machines = plant.machines()
    lows = {m.id: np.array([s.normal_low for s in m.sensors]) for m in machines}
    spans = {m.id: np.array([s.normal_high - s.normal_low for s in m.sensors]) for m in machines}
    level = {m.id: rng.uniform(0.3, 0.5, len(m.sensors)) for m in machines}
    for i in range(first_seq, first_seq + per_machine):
        ts = start + timedelta(seconds=i * period_s)
        for m in machines:
            drift = 0.9 * i / max(1, first_seq + per_machine) if m.id in degrading else 0.0
            level[m.id] = np.clip(level[m.id] + rng.normal(0, 0.02, len(m.sensors)), 0.2, 0.6)
            values = lows[m.id] + spans[m.id] * (level[m.id] + drift)
            yield TelemetrySample(machine_id=m.id, ts=ts, seq=i,
                                  signals={s.name: round(float(v), 4) for s, v in zip(m.sensors, values, strict=False)})


def renamed_plant(plant: Plant, prefix: str) -> Plant:
    """The same plant with every line id prefixed (isolates tests and benchmark runs that
    share one broker: another run's machines are unknown here and get dead-lettered)."""
    data = plant.model_dump(mode="json")
    for line in data["lines"]:
        old = line["id"]
        line["id"] = f"{prefix}-{old}"
        for m in line["machines"]:
            m["id"] = m["id"].replace(f"{old}/", f"{line['id']}/", 1)
    return Plant.model_validate(data)
