"""Six-axis robot cell physics: joint-2 reducer wear, gripper air leak, joint-3 servo overheating.

Hidden state (never emitted): reducer wear ``wear`` (0 new … 1 worn out), gripper leak
area ``leak`` (0 … 1 = grip lost), servo cooling degradation ``cooling`` (0 … 1) and the
servo winding temperature. Sources and parameters: ``simulators/README.md``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from simulators.physics.params import Params
from simulators.physics.sensors import Noise

SIGNALS: dict[str, Noise] = {
    "joint2_current_a": Noise(0.05, 0.03, 2),
    "joint2_torque_nm": Noise(2.0, 0.03, 1),
    "joint2_temp_c": Noise(0.15, 0.0, 1),
    "joint3_current_a": Noise(0.04, 0.03, 2),
    "joint3_temp_c": Noise(0.2, 0.0, 1),
    "position_error_mm": Noise(0.003, 0.08, 4, drift_frac=0.02),
    "gripper_pressure_bar": Noise(0.03, 0.005, 2),
    "gripper_close_time_ms": Noise(2.0, 0.03, 1),
    "robot_power_kw": Noise(0.03, 0.02, 2),
    "ambient_temp_c": Noise(0.1, 0.0, 1, drift_frac=0.01),
}

#: name -> (ideal cycle time s, path-load factor).
PROGRAMS: dict[str, tuple[float, float]] = {"P10": (55.0, 1.0), "P20": (48.0, 0.9), "P30": (62.0, 1.12)}

ARM_EQUIVALENT_KG = 40.0  # moving arm mass as payload-equivalent load on joint 2


@dataclass(frozen=True)
class RobotParams(Params):
    """Physics parameters of a robot cell; any scalar can be overridden per machine (``sim:``)."""

    payload_kg: float = 20.0
    reducer_life_h: float = 700.0           # running hours to wear-out: 40,000 h rated, accelerated ×57
    reducer_breakin_h: float = 10.0         # fast early wear (first 600 h in the RV study), accelerated too
    reducer_life_sigma: float = 0.3
    base_torque_nm: float = 290.0           # joint-2 RMS torque over the path at 20 kg
    friction_gain: float = 0.45             # friction torque share at full wear
    torque_constant_nm_a: float = 52.0      # link torque per motor ampere (Kt × ratio × efficiency)
    backlash_mm: float = 0.06               # TCP error added at full wear
    placement_tolerance_mm: float = 0.15
    gripper_onset_mean_h: float = 150.0     # running hours until a seal starts to leak
    gripper_growth_h: float = 60.0          # leak onset to grip lost
    supply_pressure_bar: float = 6.3
    gripper_close_ms: float = 110.0
    servo_onset_mean_h: float = 260.0       # running hours until the joint-3 fan/cooling degrades
    servo_growth_h: float = 45.0            # onset to full loss of cooling
    servo_rise_k: float = 30.0              # winding rise over ambient at full load, healthy cooling
    servo_trip_c: float = 135.0             # drive trips on winding temperature (class F, 155 °C)
    base_power_kw: float = 1.1
    random_defect_rate: float = 0.002
    repair_h: dict[str, tuple[float, float]] = field(default_factory=lambda: {
        "reducer_wear": (24.0, 60.0), "gripper_leak": (2.0, 4.0), "servo_overheat": (8.0, 16.0)})
    planned_h: dict[str, float] = field(default_factory=lambda: {
        "reducer_wear": 6.0, "gripper_leak": 0.5, "servo_overheat": 2.0})
    parts_cost: dict[str, float] = field(default_factory=lambda: {
        "reducer_wear": 6000.0, "gripper_leak": 300.0, "servo_overheat": 900.0})
    corrective_cost_factor: dict[str, float] = field(default_factory=lambda: {
        "reducer_wear": 3.0, "gripper_leak": 2.0, "servo_overheat": 3.0})
    failure_bounds_60d: dict[str, tuple[int, int]] = field(default_factory=lambda: {
        "reducer_wear": (1, 5), "gripper_leak": (2, 12), "servo_overheat": (1, 8)})


class RobotPhysics:
    """Hidden degradation state of one robot cell and the signals it shows."""

    kind = "robot"
    programs = PROGRAMS
    signals = SIGNALS

    def __init__(self, params: RobotParams, rng: np.random.Generator) -> None:
        self.p = params
        self._rng = rng
        self.load = 1.0
        self._new_reducer()
        self.reducer_hours = rng.uniform(0.0, 0.7) * self.reducer_life_h
        self.wear = self._wear_at(self.reducer_hours)
        self._new_gripper()
        self._new_servo()
        self.joint2_temp_c = 30.0
        self.winding_c = 35.0

    # --- hidden state -------------------------------------------------------------------
    def _load_ratio(self) -> float:
        return (ARM_EQUIVALENT_KG + self.p.payload_kg) / (ARM_EQUIVALENT_KG + 20.0)

    def _new_reducer(self) -> None:
        p = self.p
        # Rated life falls with load to the 10/3 power (RV catalogue life equation).
        life = p.reducer_life_h / self._load_ratio() ** (10.0 / 3.0)
        self.reducer_life_h = life * float(self._rng.lognormal(0.0, p.reducer_life_sigma))
        self.reducer_hours = 0.0
        self.wear = 0.0

    def _wear_at(self, hours: float) -> float:
        """Archard-like wear: fast break-in, then steady, then accelerating near wear-out."""
        u = hours / self.reducer_life_h
        breakin = 0.12 * (1.0 - math.exp(-hours / self.p.reducer_breakin_h))
        return breakin + 0.6 * u + 0.28 * u ** 4

    def _new_gripper(self) -> None:
        self.leak = 0.0
        self.leak_onset_h = float(self._rng.exponential(self.p.gripper_onset_mean_h))
        self.leak_rate = 1.0 / (self.p.gripper_growth_h * float(self._rng.lognormal(0.0, 0.35)))

    def _new_servo(self) -> None:
        self.cooling = 0.0
        self.cooling_onset_h = float(self._rng.exponential(self.p.servo_onset_mean_h))
        self.cooling_rate = 1.0 / (self.p.servo_growth_h * float(self._rng.lognormal(0.0, 0.35)))

    def ages_h(self) -> dict[str, float]:
        """Running hours since each component was fitted, per failure mode (the CMMS record). The
        gripper seals and the servo's cooling path start new (memoryless onset), so their age is 0."""
        return {"reducer_wear": self.reducer_hours, "gripper_leak": 0.0, "servo_overheat": 0.0}

    def hidden(self) -> dict[str, float]:
        """The true state, for plots and tests only: never put on a topic."""
        return {"reducer_wear": self.wear, "gripper_leak": self.leak, "servo_cooling_loss": self.cooling,
                "servo_winding_c": self.winding_c}

    def advance(self, dt_h: float, running: bool, ambient_c: float) -> None:
        """Let ``dt_h`` hours pass; wear and leaks grow while the cell moves."""
        if running:
            self.reducer_hours += dt_h * self.load
            self.wear = self._wear_at(self.reducer_hours)
            self.leak_onset_h -= dt_h
            if self.leak_onset_h <= 0:
                self.leak = min(1.2, self.leak + dt_h * self.leak_rate)
            self.cooling_onset_h -= dt_h
            if self.cooling_onset_h <= 0:
                self.cooling = min(1.0, self.cooling + dt_h * self.cooling_rate)
        heat = self._load_ratio() * self.load if running else 0.1
        target_w = ambient_c + self.p.servo_rise_k * heat * (1.0 + 3.2 * self.cooling)
        target_j = ambient_c + (12.0 * heat + 22.0 * self.wear ** 2 if running else 1.0)
        self.winding_c += (target_w - self.winding_c) * (1.0 - math.exp(-dt_h / 0.25))
        self.joint2_temp_c += (target_j - self.joint2_temp_c) * (1.0 - math.exp(-dt_h / 0.6))

    def failure(self) -> str | None:
        """The failure mode that has just happened, if any."""
        if self.wear >= 1.0:
            return "reducer_wear"
        if self.leak >= 1.0:
            return "gripper_leak"
        if self.winding_c >= self.p.servo_trip_c:
            return "servo_overheat"
        return None

    def restore(self, mode: str) -> None:
        """Maintenance or repair of the component behind ``mode``: as new."""
        if mode == "servo_overheat":
            self._new_servo()
            self.winding_c = min(self.winding_c, 45.0)  # serviced motor has cooled down
        else:
            {"reducer_wear": self._new_reducer, "gripper_leak": self._new_gripper}[mode]()

    # --- observable effects -------------------------------------------------------------
    def joint2_torque_nm(self) -> float:
        friction = self.p.friction_gain * self.wear ** 1.5
        return self.p.base_torque_nm * self._load_ratio() * self.load * (1.0 + friction)

    def joint2_current_a(self) -> float:
        # Efficiency sags with wear, so current rises faster than the link torque.
        return self.joint2_torque_nm() / (self.p.torque_constant_nm_a * (1.0 - 0.15 * self.wear))

    def joint3_current_a(self) -> float:
        copper = 1.0 + 0.0039 * (self.winding_c - 40.0) * 0.3  # hotter winding, more current for torque
        return 3.8 * self._load_ratio() * self.load * copper

    def gripper_pressure_bar(self) -> float:
        return self.p.supply_pressure_bar * (1.0 - 0.45 * min(self.leak, 1.2))

    def power_kw(self, running: bool) -> float:
        """Whole-cell electrical power, for energy per part."""
        if not running:
            return self.p.base_power_kw * 0.6
        return self.p.base_power_kw + 1.4 * self._load_ratio() * self.load * (1.0 + 0.35 * self.wear ** 1.5)

    def true_signals(self, running: bool, ambient_c: float) -> dict[str, float]:
        """True values of every signal (before sensor noise and faults)."""
        pressure = self.gripper_pressure_bar()
        return {
            "joint2_current_a": self.joint2_current_a() if running else 0.6,
            "joint2_torque_nm": self.joint2_torque_nm() if running else 0.0,
            "joint2_temp_c": self.joint2_temp_c,
            "joint3_current_a": self.joint3_current_a() if running else 0.4,
            "joint3_temp_c": ambient_c + 0.8 * (self.winding_c - ambient_c),
            "position_error_mm": 0.02 + self.p.backlash_mm * self.wear ** 1.5 if running else 0.0,
            "gripper_pressure_bar": pressure,
            "gripper_close_time_ms": self.p.gripper_close_ms * (self.p.supply_pressure_bar / pressure) ** 1.5,
            "robot_power_kw": self.power_kw(running),
            "ambient_temp_c": ambient_c,
        }

    def cycle_time_s(self, ideal_s: float) -> float:
        """One cycle: a leaking gripper waits longer for its pressure switch and sometimes re-grips."""
        rng = self._rng
        wait = 4.0 * self.leak ** 1.5
        regrip = 6.0 if rng.random() < 0.5 * self.leak ** 2 else 0.0
        return ideal_s * (1.0 + abs(float(rng.normal(0.0, 0.008)))) + wait + regrip

    def inspect(self) -> tuple[bool, str | None, dict[str, float]]:
        """Placement check of the part just assembled: backlash and a weak grip misplace parts."""
        p, rng = self.p, self._rng
        sigma = 0.025 + p.backlash_mm * self.wear ** 1.5
        err = abs(float(rng.normal(0.0, sigma)))
        slip = 0.15 * max(0.0, self.leak - 0.3) ** 2
        measurements = {"placement_error_mm": round(err, 4), "grip_pressure_bar": round(self.gripper_pressure_bar(), 2)}
        if rng.random() < slip:
            return False, "part_slipped", measurements
        if err > p.placement_tolerance_mm:
            return False, "placement", measurements
        if rng.random() < p.random_defect_rate:
            return False, "material", measurements
        return True, None, measurements

    @property
    def tool_id(self) -> str | None:
        return None
