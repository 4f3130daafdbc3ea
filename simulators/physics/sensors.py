"""What a real sensor adds to the true value: noise, slow drift and occasional faults.

The physics cores give true values; a :class:`SensorBank` per machine turns them into
readings. Faults (per signal, per sample, rates in :class:`FaultRates`):

- *dropout*: no value (``None``) and quality ``bad``, as when a PLC read times out;
- *stuck*: the reading freezes at its last value for a while, quality still ``good``
  (a frozen transmitter does not flag itself);
- *spike*: one reading several noise widths off (EMI, a loose connector);
- *drift*: a slow calibration offset, an Ornstein-Uhlenbeck process with a time
  constant of days, so it wanders but does not run away.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from contracts.messages import Quality


@dataclass(frozen=True)
class Noise:
    """Measurement noise and resolution of one signal: sigma = abs + rel·|value|."""

    abs_sigma: float
    rel_sigma: float = 0.0
    decimals: int = 2
    drift_frac: float = 0.01  # stationary drift sigma as a fraction of the noise scale's normal value
    spike_factor: float = 8.0  # a spike is this many sigmas
    floor: float | None = 0.0  # physical lower bound of the reading (rpm, mm/s, bar are never negative)


@dataclass(frozen=True)
class FaultRates:
    """Per-sample probabilities of sensor faults; all zero turns faults off."""

    dropout: float = 0.002
    stuck_start: float = 0.0003
    stuck_mean_samples: float = 40.0
    spike: float = 0.001
    drift_tau_h: float = 96.0

    @classmethod
    def off(cls) -> FaultRates:
        return cls(dropout=0.0, stuck_start=0.0, spike=0.0)


class SensorBank:
    """Readings for one machine's signals, in a fixed order, from one injected generator."""

    def __init__(self, names: list[str], noise: dict[str, Noise], nominal: dict[str, float],
                 rates: FaultRates, rng: np.random.Generator, period_s: float) -> None:
        self.names = list(names)
        self._noise = [noise[n] for n in self.names]
        # Drift is scaled to each signal's running nominal value, so a drifting rpm
        # sensor wanders by rpm and a temperature sensor by tenths of a degree.
        self._drift_sigma = [noise[n].drift_frac * max(abs(nominal[n]), 1e-6) for n in self.names]
        self._rates = rates
        self._rng = rng
        self._keep = math.exp(-period_s / 3600.0 / rates.drift_tau_h)
        self._kick = math.sqrt(1.0 - self._keep ** 2)
        self._drift = [0.0] * len(self.names)
        self._stuck_left = [0] * len(self.names)
        self._last: list[float | None] = [None] * len(self.names)
        # per signal, what ``read`` needs, in one tuple (read runs for every sample of every machine)
        self._plan = [(i, name, nz.abs_sigma, nz.rel_sigma, nz.decimals, nz.spike_factor, nz.floor,
                       self._kick * self._drift_sigma[i])
                      for i, (name, nz) in enumerate(zip(self.names, self._noise, strict=True))]

    def read(self, true_values: dict[str, float]) -> tuple[dict[str, float | None], dict[str, Quality]]:
        """One reading of every signal from its true value; returns (values, non-good qualities)."""
        n = len(self.names)
        rng = self._rng
        gauss = rng.standard_normal(2 * n).tolist()  # Python floats: round() on numpy scalars is slow
        u = rng.random(4 * n).tolist()
        rates = self._rates
        stuck_start, dropout, spike_rate = rates.stuck_start, rates.dropout, rates.spike
        keep, drift, stuck_left, last = self._keep, self._drift, self._stuck_left, self._last
        values: dict[str, float | None] = {}
        quality: dict[str, Quality] = {}
        for i, name, abs_sigma, rel_sigma, decimals, spike_factor, floor, kick in self._plan:
            drift[i] = drift[i] * keep + kick * gauss[n + i]
            true = true_values[name]
            sigma = abs_sigma + rel_sigma * abs(true)
            value = true + drift[i] + sigma * gauss[i]
            if stuck_left[i] > 0 and last[i] is not None:
                stuck_left[i] -= 1
                values[name] = last[i]
                continue
            if u[i] < stuck_start:
                stuck_left[i] = 1 + int(-rates.stuck_mean_samples * math.log(1.0 - u[3 * n + i]))
            if u[2 * n + i] < dropout:
                values[name] = None
                quality[name] = Quality.BAD
                continue
            if u[n + i] < spike_rate:
                value += math.copysign(spike_factor * max(sigma, abs_sigma), gauss[n + i])
            if floor is not None and value < floor:
                value = floor
            reading = round(value, decimals)
            values[name] = reading
            last[i] = reading
        return values, quality
