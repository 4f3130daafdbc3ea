"""The plant file contract: the demo plant loads, bad files name file, line and field."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from contracts.errors import ConfigError
from contracts.plant import ACTIONS, FAILURE_MODES, MODE_COMPONENT, load_plant, parse_plant, unit_of

DEMO = Path(__file__).resolve().parents[3] / "simulators" / "plants" / "demo.yaml"


def demo_data() -> dict:
    return yaml.safe_load(DEMO.read_text())


def test_demo_plant_has_two_lines_of_cnc_and_robots() -> None:
    plant = load_plant(DEMO)
    assert [m.id for m in plant.machines("cnc")] == [f"line-1/cnc-0{i}" for i in range(1, 7)]
    assert [m.id for m in plant.machines("robot")] == [f"line-2/robot-0{i}" for i in range(1, 5)]
    assert plant.machine("line-1/cnc-03").line_id == "line-1"
    assert plant.line("line-2").machines[0].kind == "robot"
    for m in plant.machines():
        assert m.sample_period_s == 60.0
        assert {s.unit for s in m.sensors} and all(s.normal_low < s.normal_high for s in m.sensors)
        modes = [mode for c in m.components for mode in c.failure_modes]
        assert sorted(modes) == sorted(FAILURE_MODES[m.kind])


def test_every_mode_has_a_component_and_an_action() -> None:
    modes = [m for ms in FAILURE_MODES.values() for m in ms]
    assert set(MODE_COMPONENT) == set(modes) == set(ACTIONS.values())


def test_unknown_ids_raise_key_error_naming_them() -> None:
    plant = load_plant(DEMO)
    with pytest.raises(KeyError, match="line-9/cnc-01"):
        plant.machine("line-9/cnc-01")
    with pytest.raises(KeyError, match="line-9"):
        plant.line("line-9")


def test_unit_suffix_decides_the_unit() -> None:
    assert unit_of("spindle_vibration_rms_mm_s") == "mm/s"
    assert unit_of("coolant_flow_l_min") == "L/min"
    assert unit_of("joint3_temp_c") == "°C"
    assert unit_of("vibration") is None


@pytest.mark.parametrize(("path", "value", "expected"), [
    (("lines", 0, "machines", 2, "kind"), "lathe", "demo.yaml: lines[0].machines[2].kind:"),
    (("lines", 1, "machines", 0, "sensors", 1, "name"), "joint2_torque", "lines[1].machines[0].sensors[1]"),
    (("lines", 0, "machines", 1, "sensors", 0, "normal_high"), 10.0, "must be below normal_high"),
    (("lines", 0, "machines", 1, "sensors", 0, "unit"), "Hz", "does not match"),
    (("lines", 0, "machines", 1, "id"), "cnc-01", "duplicate id 'line-1/cnc-01'"),
])
def test_bad_plant_names_the_field(path: tuple, value: object, expected: str) -> None:
    data = demo_data()
    node = data
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    with pytest.raises(ConfigError, match=expected.replace("[", r"\[").replace("]", r"\]").replace(".", r"\.")):
        parse_plant(data, "demo.yaml")


def test_bad_yaml_and_missing_file_are_config_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: x\nlines: [\n")
    with pytest.raises(ConfigError, match="bad.yaml: not valid YAML"):
        load_plant(bad)
    with pytest.raises(ConfigError, match="cannot read plant file"):
        load_plant(tmp_path / "missing.yaml")
    bad.write_text("- just a list\n")
    with pytest.raises(ConfigError, match="bad.yaml: expected a mapping"):
        load_plant(bad)
