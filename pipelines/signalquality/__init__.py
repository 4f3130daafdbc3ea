"""Signal quality: is a sensor telling the truth? Pure (no Kafka, no database), streaming.

One :class:`SignalQuality` per signal, fed sample by sample with ``update(ts, value,
running)``; ``get()`` says what is wrong with it now, if anything. :class:`MachineQuality`
holds the signals of one machine. Four faults, checked in this order:

- ``out_of_range``: the value is outside the plant-file limits (``range_limits``: the
  physical range of the unit, and at most ``SPAN_FACTOR`` normal-range widths beyond the
  sensor's normal range).
- ``missing``: no usable value (absent, ``None``, quality bad) for ``missing_samples``
  samples in a row.
- ``stuck``: while the machine runs, the value has not moved by more than
  ``flat_tolerance`` × the normal-range width for ``stuck_s`` seconds and at least
  ``stuck_min_samples`` samples. Idle/setup/down samples neither count nor break the run
  (a spindle at 0 rpm while idle is not a dead sensor).
- ``spike``: while the machine runs, the value is more than ``spike_z`` robust standard
  deviations (1.4826 × MAD) from the median of the last ``window`` good running values;
  ``noisy`` when ``noisy_spikes`` of the last ``window`` values were spikes. Values taken
  while idle/setup/down are not judged (a spindle at rest reads 0 N·m; that is no jump) and
  do not enter the reference. A **level shift** is not a spike: when ``shift_samples``
  values in a row are spikes on the same side of the median and agree with each other
  (spread within ``spike_z`` reference scales), the signal has moved (a new program's load,
  a wearing tool's rising torque) and the reference restarts from them. Without this, every
  value after a step change stayed a "spike" forever and the scorer excluded a signal for
  hours at a time - 42 % of running spindle-torque values on the demo plant, including the
  torque rise in the last hour of a tool's life.

What the scoring core does with it (documented in docs/scoring.md): a faulted value is
**excluded** — it becomes missing in the window, as a dropout would, and the features
see NaN (LightGBM routes missing values by what it learned) — and the first sample of a
fault raises a ``sensor_fault`` alert for that signal, cleared when it is healthy again.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from contracts.plant import Machine, unit_of

SPAN_FACTOR = 20.0

#: Physical limits per unit (inclusive); units not listed only get the span rule.
UNIT_LIMITS: dict[str, tuple[float, float]] = {
    "°C": (-60.0, 600.0), "rpm": (0.0, 100_000.0), "kW": (-500.0, 5_000.0), "mm/s": (0.0, 500.0),
    "bar": (0.0, 1_000.0), "L/min": (0.0, 10_000.0), "%": (0.0, 100.0), "ms": (0.0, 3_600_000.0),
    "s": (0.0, 1e7), "mm": (-1e4, 1e4), "A": (-5_000.0, 5_000.0), "N·m": (-1e5, 1e5), "mm/min": (0.0, 1e6),
}

Limits = dict[str, tuple[float, float]]


def range_limits(machine: Machine) -> Limits:
    """Out-of-range limits per sensor of ``machine`` from the plant file."""
    out: Limits = {}
    for s in machine.sensors:
        span = s.normal_high - s.normal_low
        low, high = s.normal_low - SPAN_FACTOR * span, s.normal_high + SPAN_FACTOR * span
        unit_low, unit_high = UNIT_LIMITS.get(unit_of(s.name) or "", (float("-inf"), float("inf")))
        out[s.name] = (max(low, unit_low), min(high, unit_high))
    return out


class Fault(StrEnum):
    OUT_OF_RANGE = "out_of_range"
    MISSING = "missing"
    STUCK = "stuck"
    SPIKE = "spike"
    NOISY = "noisy"


#: Operator text per fault (GLOSSARY: 传感器故障 sensor fault, 卡滞 stuck).
FAULT_TEXT: dict[Fault, tuple[str, str]] = {
    Fault.OUT_OF_RANGE: ("reads outside its physical range", "读数超出物理范围"),
    Fault.MISSING: ("gives no usable value", "无有效读数"),
    Fault.STUCK: ("is stuck at one value", "读数卡滞不变"),
    Fault.SPIKE: ("jumped far from its recent values", "读数突变"),
    Fault.NOISY: ("is noisy: repeated jumps", "读数噪声过大，反复突变"),
}


@dataclass(frozen=True)
class QualityConfig:
    stuck_s: float = 600.0
    stuck_min_samples: int = 5
    flat_tolerance: float = 1e-6
    missing_samples: int = 3
    window: int = 30
    spike_z: float = 8.0
    spike_min_values: int = 10
    noisy_spikes: int = 3
    shift_samples: int = 3


@dataclass
class SignalQuality:
    """Streaming fault detection for one signal."""

    low: float = float("-inf")
    high: float = float("inf")
    span: float = 1.0
    config: QualityConfig = field(default_factory=QualityConfig)
    _fault: Fault | None = None
    _missing: int = 0
    _flat_value: float | None = None
    _flat_since: datetime | None = None
    _flat_n: int = 0
    _recent: deque[float] = field(default_factory=deque)
    _spikes: deque[bool] = field(default_factory=deque)
    _ref: tuple[float, float] | None = None  # (median, robust scale) of _recent, refreshed every few values
    _since_ref: int = 0
    _n_spikes: int = 0
    _run: list[float] = field(default_factory=list)  # consecutive spike values (a level shift in the making?)

    def update(self, ts: datetime, value: float | None, running: bool = True) -> Fault | None:
        """Take one sample's value; returns the fault now (same as ``get()``)."""
        # the scorer's hot path (every signal of every sample): attributes read once into locals
        cfg = self.config
        if value is None or not math.isfinite(value):
            self._missing += 1
            self._fault = Fault.MISSING if self._missing >= cfg.missing_samples else None
            return self._fault
        self._missing = 0
        if not self.low <= value <= self.high:
            self._fault = Fault.OUT_OF_RANGE
            return self._fault
        spike = self._spike(value) if running else False
        if spike and self._shifted(value):
            spike = False  # the values before were the shift's first samples, already excluded
        elif not spike and self._run:
            self._run.clear()
        spikes = self._spikes
        spikes.append(spike)
        if spike:
            self._n_spikes += 1
        if len(spikes) > cfg.window:
            self._n_spikes -= spikes.popleft()
        if not spike and running:
            recent = self._recent
            recent.append(value)
            self._since_ref += 1
            if len(recent) > cfg.window:
                recent.popleft()
        stuck = self._flat(ts, value, running) if running else False
        if self._fault is Fault.STUCK and not stuck:
            # moving again: the frozen run must not be the reference for spikes
            self._recent.clear()
            spikes.clear()
            self._n_spikes = 0
            self._recent.append(value)
            self._ref = None
            spike = False
        if stuck:
            self._fault = Fault.STUCK
        elif self._n_spikes >= cfg.noisy_spikes:
            self._fault = Fault.NOISY
        else:
            self._fault = Fault.SPIKE if spike else None
        return self._fault

    def get(self) -> Fault | None:
        return self._fault

    def _spike(self, value: float) -> bool:
        cfg = self.config
        if len(self._recent) < cfg.spike_min_values:
            return False
        if self._ref is None or self._since_ref >= cfg.spike_min_values // 2:
            # median and MAD of the recent window, recomputed every few values (sorting per sample is
            # the scorer's hot path); a slowly wandering signal moves far less than 8 SDs in between
            ordered = sorted(self._recent)
            median = ordered[len(ordered) // 2]
            mad = sorted([abs(v - median) for v in ordered])[len(ordered) // 2]
            # floor: a quantised or near-constant signal (MAD 0) must not make every step a spike
            self._ref, self._since_ref = (median, max(1.4826 * mad, 0.02 * self.span)), 0
        median, scale = self._ref
        return abs(value - median) > cfg.spike_z * scale

    def _shifted(self, value: float) -> bool:
        """Is this spike the ``shift_samples``-th in a row of a level shift? If so, re-base the reference."""
        cfg = self.config
        assert self._ref is not None
        median, scale = self._ref
        self._run.append(value)
        run = self._run[-cfg.shift_samples:]
        same_side = all(v > median for v in run) or all(v < median for v in run)
        if len(run) < cfg.shift_samples or not same_side or max(run) - min(run) > cfg.spike_z * scale:
            return False
        self._recent.clear()
        self._recent.extend(run)
        self._spikes.clear()
        self._n_spikes = 0
        self._run.clear()
        self._ref, self._since_ref = None, 0
        return True

    def _flat(self, ts: datetime, value: float, running: bool) -> bool:
        if not running:
            return False  # neither counts nor breaks the run
        cfg = self.config
        if self._flat_value is None or abs(value - self._flat_value) > cfg.flat_tolerance * self.span:
            self._flat_value, self._flat_since, self._flat_n = value, ts, 1
            return False
        self._flat_n += 1
        assert self._flat_since is not None
        return self._flat_n >= cfg.stuck_min_samples and (ts - self._flat_since).total_seconds() >= cfg.stuck_s


@dataclass(frozen=True)
class Change:
    """A signal's fault state changed: ``fault`` None means it is healthy again."""

    signal: str
    fault: Fault | None
    previous: Fault | None
    ts: datetime
    value: float | None


class MachineQuality:
    """The signals of one machine; ``update`` returns the faults now and what changed."""

    #: Faults worth an operator's attention (a single spike is excluded from features, not alerted).
    ALERTING = frozenset({Fault.OUT_OF_RANGE, Fault.MISSING, Fault.STUCK, Fault.NOISY})

    def __init__(self, machine: Machine, config: QualityConfig | None = None) -> None:
        cfg = config or QualityConfig()
        limits = range_limits(machine)
        self.signals = {s.name: SignalQuality(*limits[s.name], span=max(s.normal_high - s.normal_low, 1e-9),
                                              config=cfg) for s in machine.sensors}
        self._alerting: dict[str, Fault] = {}

    def update(self, ts: datetime, values: Mapping[str, float | None], running: bool = True,
               bad: frozenset[str] | set[str] = frozenset()) -> tuple[dict[str, Fault], list[Change]]:
        """One sample: ``values`` may omit signals (missing); ``bad`` lists signals of bad quality."""
        faults: dict[str, Fault] = {}
        changes: list[Change] = []
        alerting, kinds = self._alerting, self.ALERTING
        for name, sq in self.signals.items():
            value = None if name in bad else values.get(name)
            fault = sq.update(ts, value, running)
            if fault is None:
                if name not in alerting:
                    continue  # healthy and not alerting: nothing changed (the common case)
                alert = None
            else:
                faults[name] = fault
                alert = fault if fault in kinds else None
            before = alerting.get(name)
            if alert != before and not (alert is None and fault is not None):  # a spike inside a fault keeps it
                changes.append(Change(name, alert, before, ts, value))
                if alert is None:
                    alerting.pop(name, None)
                else:
                    alerting[name] = alert
        return faults, changes

    def get(self) -> dict[str, Fault]:
        """Signals with a fault now."""
        return {n: f for n, sq in self.signals.items() if (f := sq.get()) is not None}
