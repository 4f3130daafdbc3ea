"""Signal quality at the edge: the connector flags signals that look faulty before they leave.

Pure. ``SampleFlagger(plant)`` runs ``pipelines.signalquality`` per machine of the plant file
(only machines the plant knows; others pass untouched) and marks a signal whose value is
stuck, out of range, spiking, noisy or missing as ``uncertain`` in the sample's ``quality``
(a signal already ``bad`` stays bad). Values are not changed: the scorer decides what to use.
``counts`` holds how many flags per fault were set (the connector's metric).
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from contracts.messages import MachineState, Quality, TelemetrySample
from contracts.plant import Plant
from pipelines.signalquality import MachineQuality, QualityConfig


class SampleFlagger:
    def __init__(self, plant: Plant, config: QualityConfig | None = None,
                 on_fault: Callable[[str], None] | None = None) -> None:
        self._on_fault = on_fault
        self._machines = {m.id: m for m in plant.machines()}
        self._config = config
        self._quality: dict[str, MachineQuality] = {}
        self._lock = threading.Lock()  # Sparkplug callbacks and the asyncio sources share one sink
        self.counts: dict[str, int] = {}

    def __call__(self, sample: TelemetrySample) -> TelemetrySample:
        machine = self._machines.get(sample.machine_id)
        if machine is None or sample.state == MachineState.OFFLINE:
            return sample
        with self._lock:
            mq = self._quality.get(machine.id)
            if mq is None:
                mq = self._quality[machine.id] = MachineQuality(machine, self._config)
            bad = {n for n, q in sample.quality.items() if q == Quality.BAD}
            mapped = {n: v for n, v in sample.signals.items() if n in mq.signals}
            faults, _ = mq.update(sample.ts, mapped, sample.state == MachineState.RUNNING, bad)
            # signals this source does not map for the machine are not "missing" here
            faults = {n: f for n, f in faults.items() if n in sample.signals}
            for fault in faults.values():
                self.counts[fault.value] = self.counts.get(fault.value, 0) + 1
                if self._on_fault is not None:
                    self._on_fault(fault.value)
        if not faults:
            return sample
        quality = dict(sample.quality)
        for name in faults:
            quality.setdefault(name, Quality.UNCERTAIN)
        return sample.model_copy(update={"quality": quality})
