"""Sensor faults in the scorer: ``pipelines.signalquality`` per machine, faulted values excluded
from the window, and a ``sensor_fault`` alert per faulted signal (distinct from equipment alerts).

The engine calls ``observe`` once per sample (its one call site) and ``drain`` when it scores.
Alert ids are ``<machine>|sensor_fault:<signal>|<onset ts>``: the onset is the sample time at
which the fault was detected, so a replay of the same data yields the same id. During a
rebuild (``replay=True``) the detectors advance but no alert is emitted.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from contracts.messages import AlertAction, AlertEvent, Factor, MachineState, Quality, TelemetrySample
from contracts.plant import Plant, Sensor
from pipelines.signalquality import FAULT_TEXT, Change, Fault, MachineQuality, QualityConfig

MODE = "sensor_fault"
MODEL_VERSION = "signal-quality-v1"
ACTION = "check_sensor"


def alert_mode(signal: str) -> str:
    """The alert ``mode`` of a sensor fault: one per signal, never an equipment failure mode."""
    return f"{MODE}:{signal}"


def texts(sensor: Sensor, fault: Fault, value: float | None) -> tuple[str, str]:
    """(English, zh-CN) operator text: what is wrong with which sensor, and what not to chase."""
    en, zh = FAULT_TEXT[fault]
    label_en = sensor.label_en or sensor.name
    label_zh = sensor.label_zh or sensor.name
    shown = "" if value is None else f" ({value:g} {sensor.unit})"
    return (f"Sensor fault: {label_en} {en}{shown}. Check the sensor and its wiring first; equipment alerts "
            f"that rely on this signal are not trustworthy until it is fixed.",
            f"传感器故障：{label_zh}{zh}{shown}。请先检查传感器及其接线；在修复前，依赖该信号的设备告警不可信。")


class SensorFaults:
    """Signal-quality detectors of the machines one scoring worker owns."""

    def __init__(self, plant: Plant, config: QualityConfig | None = None) -> None:
        self._machines = {m.id: m for m in plant.machines()}
        self._config = config
        self._quality: dict[str, MachineQuality] = {}
        self._onset: dict[tuple[str, str], datetime] = {}
        self._pending: list[AlertEvent] = []

    def observe(self, sample: TelemetrySample, signals: Mapping[str, float | None],
                replay: bool = False) -> tuple[dict[str, float | None], dict[str, Fault]]:
        """Signals with faulted values excluded (None), and the faults now."""
        machine = self._machines.get(sample.machine_id)
        if machine is None or sample.state == MachineState.OFFLINE:
            return dict(signals), {}
        mq = self._quality.get(machine.id)
        if mq is None:
            mq = self._quality[machine.id] = MachineQuality(machine, self._config)
        bad = {n for n, q in sample.quality.items() if q == Quality.BAD} if sample.quality else set()
        faults, changes = mq.update(sample.ts, signals, sample.state == MachineState.RUNNING, bad)
        for change in changes:
            self._change(machine.id, change, replay)
        if not faults:
            return dict(signals), faults
        cleaned = {n: (None if n in faults else v) for n, v in signals.items()}
        return cleaned, faults

    def _change(self, machine_id: str, change: Change, replay: bool) -> None:
        key = (machine_id, change.signal)
        sensor = self._machines[machine_id].sensor(change.signal)
        if change.previous is not None:
            onset = self._onset.pop(key, change.ts)
            if not replay:
                self._pending.append(self._event(machine_id, sensor, change.previous, onset, change.ts,
                                                 AlertAction.CLEARED, change.value))
        if change.fault is not None:
            self._onset[key] = change.ts
            if not replay:
                self._pending.append(self._event(machine_id, sensor, change.fault, change.ts, change.ts,
                                                 AlertAction.RAISED, change.value))

    @staticmethod
    def _event(machine_id: str, sensor: Sensor, fault: Fault, onset: datetime, ts: datetime,
               action: AlertAction, value: float | None) -> AlertEvent:
        en, zh = texts(sensor, fault, value)
        return AlertEvent(
            alert_id=f"{machine_id}|{alert_mode(sensor.name)}|{onset.isoformat()}", machine_id=machine_id, ts=ts,
            action=action, mode=alert_mode(sensor.name), priority="medium", probability=1.0,
            model_version=f"{MODEL_VERSION}:{fault.value}", message_en=en, message_zh=zh, recommended_action=ACTION,
            top_factors=[Factor(feature=sensor.name, contribution=0.0, value=value, normal_low=sensor.normal_low,
                                normal_high=sensor.normal_high)])

    def drain(self) -> list[AlertEvent]:
        """Sensor-fault alert events since the last call."""
        out, self._pending = self._pending, []
        return out

    def current(self, machine_id: str) -> dict[str, Fault]:
        mq = self._quality.get(machine_id)
        return mq.get() if mq else {}

    def forget(self, machine_id: str) -> None:
        self._quality.pop(machine_id, None)
        self._onset = {k: v for k, v in self._onset.items() if k[0] != machine_id}
