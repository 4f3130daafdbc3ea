"""The pure physics cores: wear monotone, effects of wear, maintenance resets, rates, determinism."""

from __future__ import annotations

import numpy as np
import pytest

from contracts.errors import ConfigError
from simulators.physics.cnc import CncParams, CncPhysics
from simulators.physics.robot import RobotParams, RobotPhysics


def cnc(seed: int = 1) -> CncPhysics:
    return CncPhysics(CncParams(), np.random.default_rng(seed))


def robot(seed: int = 1) -> RobotPhysics:
    return RobotPhysics(RobotParams(), np.random.default_rng(seed))


@pytest.mark.parametrize("make", [cnc, robot])
def test_hidden_wear_never_decreases_between_maintenance(make) -> None:
    phys = make(3)
    before = phys.hidden()
    for step in range(3000):
        phys.advance(1 / 60, running=step % 7 != 0, ambient_c=22.0)
        now = phys.hidden()
        for key in before:
            if key != "servo_winding_c":  # a temperature, free to go down
                assert now[key] >= before[key] - 1e-12, (key, step)
        if phys.failure():
            break
        before = now


def test_worn_tool_raises_torque_power_vibration_and_defect_probability() -> None:
    new, worn = cnc(5), cnc(5)
    new.restore("tool_wear")
    worn.restore("tool_wear")
    worn.tool_u = 1.1  # past the end-of-life point, before breakage
    for phys in (new, worn):
        phys.bearing_hours = 0.0
        phys.clog = 0.0
    assert worn.vb_mm > 0.3 > new.vb_mm
    s_new, s_worn = new.true_signals(True, 22.0), worn.true_signals(True, 22.0)
    for name in ("spindle_torque_nm", "spindle_power_kw", "spindle_vibration_rms_mm_s"):
        assert s_worn[name] > 1.15 * s_new[name], name
    bad_new = sum(not new.inspect()[0] for _ in range(3000))
    bad_worn = sum(not worn.inspect()[0] for _ in range(3000))
    assert bad_worn > 3 * max(bad_new, 5)


def test_worn_reducer_raises_current_and_position_error() -> None:
    new, worn = robot(2), robot(2)
    new.restore("reducer_wear")
    worn.restore("reducer_wear")
    worn.advance(0.95 * worn.reducer_life_h, running=True, ambient_c=22.0)
    s_new, s_worn = new.true_signals(True, 22.0), worn.true_signals(True, 22.0)
    assert s_worn["joint2_current_a"] > 1.3 * s_new["joint2_current_a"]
    assert s_worn["position_error_mm"] > 2 * s_new["position_error_mm"]


@pytest.mark.parametrize(("make", "mode", "signal"), [
    (cnc, "tool_wear", "spindle_torque_nm"), (cnc, "spindle_bearing", "spindle_vibration_rms_mm_s"),
    (cnc, "coolant", "coolant_pressure_bar"), (robot, "reducer_wear", "joint2_current_a"),
    (robot, "gripper_leak", "gripper_pressure_bar"), (robot, "servo_overheat", "joint3_temp_c"),
])
def test_run_to_failure_then_maintenance_resets_the_component(make, mode: str, signal: str) -> None:
    phys = make(11)
    healthy = phys.true_signals(True, 22.0)[signal]
    for _ in range(200_000):
        phys.advance(1 / 60, running=True, ambient_c=22.0)
        failed = phys.failure()
        if failed == mode:
            break
        if failed:
            phys.restore(failed)
    else:
        pytest.fail(f"{mode} never failed")
    sick = phys.true_signals(True, 22.0)[signal]
    assert abs(sick - healthy) > 0.15 * abs(healthy)
    phys.restore(mode)
    for _ in range(60):  # let temperatures settle after the service
        phys.advance(1 / 60, running=True, ambient_c=22.0)
    assert phys.failure() != mode
    assert abs(phys.true_signals(True, 22.0)[signal] - healthy) < 0.5 * abs(sick - healthy)


def test_same_seed_same_state_different_seed_different() -> None:
    a, b, c = cnc(9), cnc(9), cnc(10)
    for _ in range(500):
        for p in (a, b, c):
            p.advance(1 / 60, True, 22.0)
    assert a.hidden() == b.hidden() != c.hidden()


def test_sim_overrides_are_checked() -> None:
    p = CncParams().with_overrides({"cutting_speed_m_min": 360}, "line-1/cnc-04")
    assert p.cutting_speed_m_min == 360.0
    with pytest.raises(ConfigError, match="line-1/cnc-04: sim.speed: unknown simulator parameter"):
        CncParams().with_overrides({"speed": 1}, "line-1/cnc-04")
    with pytest.raises(ConfigError, match="must be positive"):
        RobotParams().with_overrides({"payload_kg": -3}, "line-2/robot-01")


def test_faster_cutting_wears_tools_sooner() -> None:
    slow = CncPhysics(CncParams(cutting_speed_m_min=250), np.random.default_rng(4))
    fast = CncPhysics(CncParams(cutting_speed_m_min=360), np.random.default_rng(4))
    slow.restore("tool_wear"), fast.restore("tool_wear")
    assert fast.tool_life_h < 0.5 * slow.tool_life_h
