"""Mapping files: valid ones load, bad ones fail with file:line: field: reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from contracts.errors import ConfigError
from contracts.plant import load_plant
from services.connectors.core.mapping import check_against_plant, load_mapping, parse_mapping

ROOT = Path(__file__).resolve().parents[3]
GOOD = """\
version: 1
sources:
  - name: ua
    protocol: opcua
    endpoint: opc.tcp://127.0.0.1:4840
    tags:
      - node: ns=2;s=line-1/cnc-01/spindle_speed_rpm
        machine: line-1/cnc-01
        signal: spindle_speed_rpm
        scale: 0.5
"""


def error_of(text: str) -> str:
    with pytest.raises(ConfigError) as info:
        parse_mapping(text, "m.yaml")
    return str(info.value)


def test_good_mapping_loads_with_defaults() -> None:
    mapping = parse_mapping(GOOD)
    src = mapping.sources[0]
    assert src.protocol == "opcua" and src.security.mode == "None" and src.mode == "subscribe"
    assert src.tags[0].engineering(100) == 50.0


def test_wrong_type_names_file_line_and_field() -> None:
    text = GOOD.replace("scale: 0.5", "scale: fast")
    assert error_of(text).startswith("m.yaml:10: sources[0].tags[0].scale:")


def test_signal_without_unit_suffix_is_refused() -> None:
    msg = error_of(GOOD.replace("signal: spindle_speed_rpm", "signal: spindle_speed"))
    assert "m.yaml:7: sources[0].tags[0]" in msg and "unit suffix" in msg


def test_unknown_protocol_and_unknown_field() -> None:
    assert "does not match any of the expected tags" in error_of(GOOD.replace("protocol: opcua", "protocol: s7"))
    msg = error_of(GOOD.replace("    scale: 0.5", "    scael: 0.5"))
    assert "m.yaml:10: sources[0].tags[0].scael: Extra inputs are not permitted" in msg


def test_yaml_syntax_error_has_a_line() -> None:
    assert error_of("sources:\n  - name: [oops\n").startswith("m.yaml:3: not valid YAML")


def test_a_machine_fed_by_two_sources_is_refused() -> None:
    second = GOOD.split("sources:\n")[1].replace("name: ua", "name: ua2")
    assert "fed by two sources" in error_of(GOOD + second)


def test_security_needs_certificates_and_password_env() -> None:
    msg = error_of(GOOD.replace("    tags:", "    security: {mode: SignAndEncrypt}\n    tags:"))
    assert "needs certificate and private_key" in msg
    msg = error_of(GOOD.replace("    tags:", "    security: {username: op}\n    tags:"))
    assert "password_env" in msg


def test_modbus_register_fields_are_checked() -> None:
    text = """sources:
  - name: mb
    protocol: modbus
    host: 10.0.0.9
    tags:
      - {machine: line-1/cnc-01, signal: spindle_speed_rpm, address: 70000, type: float64}
"""
    msg = error_of(text)
    assert "m.yaml:6: sources[0].tags[0].address" in msg and "m.yaml:6: sources[0].tags[0].type" in msg


def test_example_mappings_are_valid_against_the_demo_plant() -> None:
    files = sorted((ROOT / "examples" / "mappings").glob("*.yaml"))
    assert len(files) >= 3
    for path in files:
        mapping = load_mapping(path)
        check_against_plant(mapping, load_plant(mapping.plant))


def test_machine_missing_from_plant_is_named() -> None:
    plant = load_plant(ROOT / "simulators" / "plants" / "demo.yaml")
    mapping = parse_mapping(GOOD.replace("line-1/cnc-01", "line-9/cnc-77"))
    with pytest.raises(ConfigError, match="'line-9/cnc-77' is not in plant 'demo'"):
        check_against_plant(mapping, plant)
