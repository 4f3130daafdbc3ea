"""CNC machining centre physics: tool wear, spindle bearing damage, coolant clogging.

Hidden state (never emitted): tool flank wear ``vb_mm``, bearing damage ``bearing``
(0 healthy … 1 failed), coolant filter clogging ``clog`` (0 … 1). Signals and part
quality are functions of that state plus operating conditions; sources and parameter
choices are in ``simulators/README.md`` and ``/work/shared/PHYSICS.md``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from simulators.physics.params import Params
from simulators.physics.sensors import Noise

SIGNALS: dict[str, Noise] = {
    "spindle_speed_rpm": Noise(4.0, 0.0005, 0, drift_frac=0.0005),
    "spindle_torque_nm": Noise(0.1, 0.03, 2),
    "spindle_power_kw": Noise(0.05, 0.02, 2),
    "spindle_vibration_rms_mm_s": Noise(0.03, 0.06, 3, drift_frac=0.03),
    "spindle_bearing_temp_c": Noise(0.15, 0.0, 1, drift_frac=0.01),
    "coolant_pressure_bar": Noise(0.08, 0.01, 2),
    "coolant_flow_l_min": Noise(2.0, 0.01, 1),
    "coolant_temp_c": Noise(0.15, 0.0, 1),
    "feed_rate_mm_min": Noise(5.0, 0.0, 0, drift_frac=0.0),
    "ambient_temp_c": Noise(0.1, 0.0, 1, drift_frac=0.01),
}

#: name -> (ideal cycle time s, cutting-load factor); setups switch between them.
PROGRAMS: dict[str, tuple[float, float]] = {"O1001": (300.0, 1.0), "O1002": (270.0, 0.9), "O1003": (340.0, 1.15)}


@dataclass(frozen=True)
class CncParams(Params):
    """Physics parameters of a CNC machining centre; any can be overridden per machine (``sim:``)."""

    spindle_speed_rpm: float = 8000.0
    feed_rate_mm_min: float = 2400.0
    cutting_speed_m_min: float = 300.0      # Taylor: life scales as (v_ref / v)^(1/n)
    ref_cutting_speed_m_min: float = 300.0
    taylor_n: float = 0.25                  # carbide (PHYSICS.md §1)
    tool_life_ref_h: float = 20.0           # cutting hours to VB = vb_end at the reference speed
    tool_life_sigma: float = 0.35           # lognormal spread: life varies widely at fixed parameters
    vb_end_mm: float = 0.3                  # ISO 3685 end-of-life criterion (mean VB, carbide)
    vb_fail_low_mm: float = 0.42            # the edge breaks somewhere in [low, high]
    vb_fail_high_mm: float = 0.6
    base_torque_nm: float = 9.5
    torque_wear_gain: float = 0.35          # +35 % torque at VB = vb_end
    base_vibration_mm_s: float = 0.9
    bearing_onset_scale_h: float = 380.0    # Weibull scale of running hours to defect onset (accelerated ×50)
    bearing_onset_shape: float = 1.5
    bearing_growth_h: float = 90.0          # onset (damage 0.02) to failure (1.0), exponential growth
    clog_h: float = 300.0                   # mean running hours for the filter to clog fully
    coolant_pressure_bar: float = 10.0
    coolant_flow_l_min: float = 290.0
    base_power_kw: float = 2.4              # controls, pumps, hydraulics (the "basic" share)
    ra_new_um: float = 0.8                  # roughness with a new tool; Ra = Ra_new·(1 + 0.35·VB/vb_end + …)
    ra_limit_um: float = 1.6                # precision finish limit (bearing seats)
    dim_tolerance_mm: float = 0.0105        # IT7 at 18–30 mm: 21 µm band
    random_defect_rate: float = 0.003       # material flaws, clamping errors
    repair_h: dict[str, tuple[float, float]] = field(default_factory=lambda: {
        "tool_wear": (0.5, 1.5), "spindle_bearing": (48.0, 96.0), "coolant": (4.0, 8.0)})
    planned_h: dict[str, float] = field(default_factory=lambda: {
        "tool_wear": 5 / 60, "spindle_bearing": 8.0, "coolant": 1.0})
    parts_cost: dict[str, float] = field(default_factory=lambda: {
        "tool_wear": 40.0, "spindle_bearing": 2500.0, "coolant": 150.0})
    corrective_cost_factor: dict[str, float] = field(default_factory=lambda: {
        "tool_wear": 3.0, "spindle_bearing": 4.0, "coolant": 3.0})
    #: Accepted failures per machine in 60 simulated days when run to failure (tests check these).
    failure_bounds_60d: dict[str, tuple[int, int]] = field(default_factory=lambda: {
        "tool_wear": (25, 90), "spindle_bearing": (1, 6), "coolant": (2, 9)})


class CncPhysics:
    """Hidden degradation state of one machining centre and the signals it shows."""

    kind = "cnc"
    programs = PROGRAMS
    signals = SIGNALS

    def __init__(self, params: CncParams, rng: np.random.Generator) -> None:
        self.p = params
        self._rng = rng
        self.load = 1.0
        self._vb_at: tuple[float, float] = (math.nan, math.nan)  # (tool_u, vb_mm) last computed
        self.tool_count = 0
        self._new_tool()
        self._new_bearing(age_frac=rng.uniform(0.0, 0.8))
        self._new_filter()
        self.clog = rng.uniform(0.0, 0.6)
        self.tool_u = rng.uniform(0.0, 0.7)  # tools already in use at the start
        self.bearing_temp_c = 30.0
        self.coolant_temp_c = 24.0

    # --- hidden state -------------------------------------------------------------------
    def _new_tool(self) -> None:
        p, rng = self.p, self._rng
        pace = (p.ref_cutting_speed_m_min / p.cutting_speed_m_min) ** (1.0 / p.taylor_n)
        self.tool_life_h = p.tool_life_ref_h * pace * float(rng.lognormal(0.0, p.tool_life_sigma))
        self.tool_u = 0.0  # fraction of the tool's life used (cutting time / life)
        self.vb_fail_mm = float(rng.uniform(p.vb_fail_low_mm, p.vb_fail_high_mm))
        self.tool_count += 1

    def _new_bearing(self, age_frac: float = 0.0) -> None:
        p, rng = self.p, self._rng
        self.bearing_onset_h = p.bearing_onset_scale_h * float(rng.weibull(p.bearing_onset_shape))
        self.bearing_rate = math.log(50.0) / (p.bearing_growth_h * float(rng.lognormal(0.0, 0.25)))
        self.bearing_hours = age_frac * self.bearing_onset_h

    def _new_filter(self) -> None:
        self.clog = 0.0
        self.clog_rate = 1.0 / (self.p.clog_h * float(self._rng.lognormal(0.0, 0.3)))

    @property
    def vb_mm(self) -> float:
        """Flank wear: break-in, steady, then accelerated growth past the end-of-life point."""
        u = self.tool_u
        if u == self._vb_at[0]:  # a tick reads it up to five times for the same wear
            return self._vb_at[1]
        accel = 0.2 * (math.exp(8.0 * u) - 1.0) / (math.exp(8.0) - 1.0)
        vb = self.p.vb_end_mm * (0.25 * (1.0 - math.exp(-u / 0.05)) + 0.55 * u + accel)
        self._vb_at = (u, vb)
        return vb

    @property
    def bearing(self) -> float:
        """Bearing damage: nothing before onset, then exponential growth (IMS-like)."""
        past = self.bearing_hours - self.bearing_onset_h
        return 0.0 if past <= 0 else min(1.5, 0.02 * math.exp(self.bearing_rate * past))

    def ages_h(self) -> dict[str, float]:
        """Load-weighted running hours since each component was fitted, per failure mode: what a plant's CMMS and
        tool-management system record (tool cutting time, bearing and filter hours). Read-only."""
        return {"tool_wear": self.tool_u * self.tool_life_h, "spindle_bearing": self.bearing_hours,
                "coolant": self.clog / self.clog_rate}

    def hidden(self) -> dict[str, float]:
        """The true state, for plots and tests only: never put on a topic."""
        return {"tool_wear_vb_mm": self.vb_mm, "bearing_damage": self.bearing, "coolant_clog": self.clog}

    def advance(self, dt_h: float, running: bool, ambient_c: float) -> None:
        """Let ``dt_h`` hours pass; wear grows only while cutting."""
        if running:
            # Poor coolant flow heats the edge: wear runs faster (PHYSICS.md §1 wear vs temperature).
            self.tool_u += dt_h / self.tool_life_h * (1.0 + 1.5 * self.clog ** 2) * self.load
            self.bearing_hours += dt_h * self.load
            self.clog = min(1.2, self.clog + dt_h * self.clog_rate)
        target_b = ambient_c + (14.0 * self.load + 30.0 * self.bearing ** 2 if running else 2.0)
        target_c = ambient_c + (3.0 + 9.0 * self.clog ** 2 if running else 1.0)
        self.bearing_temp_c += (target_b - self.bearing_temp_c) * (1.0 - math.exp(-dt_h / 0.4))
        self.coolant_temp_c += (target_c - self.coolant_temp_c) * (1.0 - math.exp(-dt_h / 0.8))

    def failure(self) -> str | None:
        """The failure mode that has just happened, if any."""
        if self.vb_mm >= self.vb_fail_mm:
            return "tool_wear"
        if self.bearing >= 1.0:
            return "spindle_bearing"
        if self.clog >= 1.0:
            return "coolant"
        return None

    def restore(self, mode: str) -> None:
        """Maintenance or repair of the component behind ``mode``: as new."""
        {"tool_wear": self._new_tool, "spindle_bearing": self._new_bearing, "coolant": self._new_filter}[mode]()

    # --- observable effects -------------------------------------------------------------
    def _wear_ratio(self) -> float:
        return self.vb_mm / self.p.vb_end_mm

    def torque_nm(self) -> float:
        w = self._wear_ratio()
        jump = 0.4 * max(0.0, w - 1.0)  # forces jump once the edge starts to fail
        return self.p.base_torque_nm * self.load * (1.0 + self.p.torque_wear_gain * w + jump) \
            + 0.8 * self.bearing + 0.4 * self.clog

    def spindle_power_kw(self) -> float:
        omega = 2.0 * math.pi * self.p.spindle_speed_rpm / 60.0
        return self.torque_nm() * omega / 1000.0 / 0.9 + 0.4

    def power_kw(self, running: bool) -> float:
        """Whole-machine electrical power (spindle + basic), for energy per part."""
        return self.p.base_power_kw + (self.spindle_power_kw() if running else 0.0)

    def vibration_mm_s(self) -> float:
        w = self._wear_ratio()
        tool = 0.7 * w ** 2
        bearing = 9.0 * self.bearing ** 2  # zone D (> 4.5 mm/s, group 2 rigid) from damage ≈ 0.7
        return math.sqrt(self.p.base_vibration_mm_s ** 2 + tool ** 2 + bearing ** 2)

    def true_signals(self, running: bool, ambient_c: float) -> dict[str, float]:
        """True values of every signal (before sensor noise and faults)."""
        p = self.p
        pressure = p.coolant_pressure_bar * (1.0 - 0.55 * min(self.clog, 1.2) ** 1.5) if running else 0.0
        return {
            "spindle_speed_rpm": p.spindle_speed_rpm if running else 0.0,
            "spindle_torque_nm": self.torque_nm() if running else 0.0,
            "spindle_power_kw": self.spindle_power_kw() if running else 0.0,
            "spindle_vibration_rms_mm_s": self.vibration_mm_s() if running else 0.08,
            "spindle_bearing_temp_c": self.bearing_temp_c,
            "coolant_pressure_bar": pressure,
            "coolant_flow_l_min": p.coolant_flow_l_min * math.sqrt(pressure / p.coolant_pressure_bar),
            "coolant_temp_c": self.coolant_temp_c,
            "feed_rate_mm_min": p.feed_rate_mm_min / self.load if running else 0.0,
            "ambient_temp_c": ambient_c,
        }

    def cycle_time_s(self, ideal_s: float) -> float:
        """One part's actual cycle time: small scatter plus occasional operator delay."""
        rng = self._rng
        delay = float(rng.exponential(40.0)) if rng.random() < 0.05 else 0.0
        return ideal_s * (1.0 + abs(float(rng.normal(0.0, 0.01)))) + delay

    def inspect(self) -> tuple[bool, str | None, dict[str, float]]:
        """Inspection of the part just finished: roughness and diameter against tolerance."""
        p, rng = self.p, self._rng
        w = self._wear_ratio()
        ra = p.ra_new_um * (1.0 + 0.35 * w + 1.0 * max(0.0, w - 1.0) + 0.25 * self.clog ** 2 + 0.5 * self.bearing ** 2)
        ra *= float(rng.lognormal(0.0, 0.12))
        # Wear-offset compensation removes most of the 2·VB·tan(7°) drift; the rest plus
        # bearing run-out and thermal growth from poor coolant decide the diameter.
        dev = 0.05 * 2.0 * self.vb_mm * math.tan(math.radians(7.0)) + 0.004 * self.clog
        dev += float(rng.normal(0.0, 0.003 * (1.0 + 1.5 * self.bearing)))
        measurements = {"surface_roughness_ra_um": round(ra, 3), "diameter_deviation_mm": round(dev, 4)}
        if ra > p.ra_limit_um:
            return False, "surface_roughness", measurements
        if abs(dev) > p.dim_tolerance_mm:
            return False, "dimension", measurements
        if rng.random() < p.random_defect_rate:
            return False, "material", measurements
        return True, None, measurements

    @property
    def tool_id(self) -> str:
        return f"T{self.tool_count:05d}"
