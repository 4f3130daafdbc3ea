"""Mapping files: which PLC tag becomes which signal of which machine.

A mapping file is YAML with a list of ``sources`` (one OPC UA server, MQTT broker with
Sparkplug B edge nodes, or Modbus TCP device each) and, per source, its ``tags``. It is
validated with pydantic; every error names the file, the line and the field path, so
an integrator can fix it without reading code. See ``docs/integrators.md``.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from contracts.errors import ConfigError
from contracts.messages import MACHINE_ID_PATTERN, SIGNAL_NAME_PATTERN, MachineState
from contracts.plant import Plant, unit_of
from contracts.validation import validation_lines


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Alarm(_Strict):
    """One PLC alarm: the text operators see, in English and zh-CN (GLOSSARY: 告警)."""

    code: str = Field(min_length=1, max_length=100, description="The PLC's alarm number or name, e.g. E1042.")
    text_en: str = Field(min_length=1, max_length=500)
    text_zh: str = Field(default="", max_length=500)
    severity: Literal["low", "medium", "high"] = "medium"


#: Text fields of a ``TelemetrySample`` a tag of kind ``text`` can fill.
TEXT_FIELDS = ("program", "tool_id", "part_id")


class TagBase(_Strict):
    """What every tag says: the machine, the signal (name ends in its unit) and the scaling."""

    machine: str = Field(pattern=MACHINE_ID_PATTERN, description="<line>/<machine>, as in the plant file.")
    signal: str = Field(pattern=SIGNAL_NAME_PATTERN, description="Unit-suffixed name, e.g. spindle_speed_rpm.")
    kind: Literal["signal", "state", "alarm", "text"] = Field(
        default="signal", description="signal: a number; state: a code mapped to the machine state by `states`; "
                                      "alarm: a Boolean or a word whose bits are the alarms in `alarms`; "
                                      "text: a string for the sample's program, tool_id or part_id (the `signal`).")
    scale: float = 1.0
    offset: float = 0.0
    precision: int | None = Field(default=None, ge=0, le=12,
                                  description="Decimals of the engineering value (default: 12 significant digits).")
    deadband: float = Field(default=0.0, ge=0, description="Ignore changes smaller than this (engineering units).")
    states: dict[int, MachineState] = Field(default_factory=dict, description="For kind: state, code -> state.")
    alarms: dict[int, Alarm] = Field(default_factory=dict,
                                     description="For kind: alarm, bit number -> alarm (a Boolean tag is bit 0).")

    @model_validator(mode="after")
    def _check(self) -> TagBase:
        if self.kind == "signal" and unit_of(self.signal) is None:
            raise ValueError(f"signal {self.signal!r} must end in a unit suffix (e.g. _rpm, _c, _bar, _mm_s, _kw)")
        if self.kind == "state" and not self.states:
            raise ValueError("a tag of kind 'state' needs a 'states' map, e.g. {0: idle, 1: running, 2: down}")
        if self.kind == "text" and self.signal not in TEXT_FIELDS:
            raise ValueError(f"a tag of kind 'text' fills one of the sample's text fields: signal must be one of "
                             f"{', '.join(TEXT_FIELDS)}, not {self.signal!r}")
        if self.kind == "alarm" and not self.alarms:
            raise ValueError("a tag of kind 'alarm' needs an 'alarms' map of bit -> {code, text_en, text_zh}, "
                             "e.g. {0: {code: E101, text_en: Coolant level low, text_zh: 冷却液液位低}}")
        bad_bits = [b for b in self.alarms if not 0 <= b <= 31]
        if bad_bits:
            raise ValueError(f"alarm bits must be 0..31, got {bad_bits}")
        return self

    def engineering(self, raw: float) -> float:
        """Raw PLC value -> engineering units: ``raw * scale + offset``, rounded to ``precision``
        decimals (default 12 significant digits: no ``47.300000000000004`` from binary scaling)."""
        value = raw * self.scale + self.offset
        if not math.isfinite(value):
            return value
        return round(value, self.precision) if self.precision is not None else float(f"{value:.12g}")


class OpcUaTag(TagBase):
    node: str = Field(min_length=3, description="OPC UA node id, e.g. ns=2;s=line-1/cnc-01/spindle_speed_rpm")
    sampling_interval_ms: float | None = Field(default=None, ge=0, description="Overrides the source's.")


class SparkplugTag(TagBase):
    edge_node: str = Field(min_length=1)
    device: str | None = Field(default=None, description="Device id; omit for a node-level metric.")
    metric: str = Field(min_length=1, description="Metric name as announced in NBIRTH/DBIRTH.")


class ModbusTag(TagBase):
    unit_id: int = Field(default=1, ge=0, le=255)
    table: Literal["holding", "input", "coil", "discrete"] = Field(
        default="holding", description="holding/input registers (4xxxx/3xxxx), coils/discrete inputs (0xxxx/1xxxx).")
    address: int = Field(ge=0, le=65535, description="0-based address as on the wire (40001 = holding 0).")
    type: Literal["int16", "uint16", "int32", "uint32", "float32", "bool", "string"] = "uint16"
    word_order: Literal["big", "little"] = Field(
        default="big", description="32-bit values: big = high word first (Modbus convention).")
    bit: int | None = Field(default=None, ge=0, le=15,
                            description="Lowest bit of a bit field in a 16-bit register (0 = lowest bit).")
    bits: int = Field(default=1, ge=1, le=16, description="Width of the bit field that starts at `bit`, e.g. "
                                                           "bit: 8, bits: 4 for a mode code in bits 8..11.")
    length: int | None = Field(default=None, ge=1, le=100,
                               description="type string: registers it spans (two characters each).")
    byte_order: Literal["big", "little"] = Field(
        default="big", description="type string: big = first character in the high byte of each register.")

    @model_validator(mode="after")
    def _table_type(self) -> ModbusTag:
        bits = self.table in ("coil", "discrete")
        if bits != (self.type == "bool"):
            raise ValueError(f"table {self.table} needs type bool" if bits else
                             f"type bool is for table coil or discrete, not {self.table} (use bit: N for a "
                             "bit of a register)")
        if self.bit is not None and self.type not in ("uint16", "int16"):
            raise ValueError(f"bit is for 16-bit registers (type uint16/int16), not {self.type}")
        if self.bits > 1 and self.bit is None:
            raise ValueError("bits (the width of a bit field) needs bit: its lowest bit")
        if self.bit is not None and self.bit + self.bits > 16:
            raise ValueError(f"bit field {self.bit}..{self.bit + self.bits - 1} does not fit a 16-bit register")
        if self.bit is not None and self.kind == "alarm":
            raise ValueError("an alarm tag reads the whole word; its `alarms` map names the bits (drop bit:)")
        if (self.type == "string") != (self.kind == "text"):
            raise ValueError("type string is for kind: text (program, tool_id, part_id)" if self.type == "string"
                             else f"kind text reads characters: use type string with length, not {self.type}")
        if self.type == "string" and self.length is None:
            raise ValueError("type string needs length: the number of registers (two characters each)")
        if self.length is not None and self.type != "string":
            raise ValueError("length is for type string")
        return self


class Security(_Strict):
    """OPC UA security. Secrets never live in the file: ``password_env`` names a variable."""

    mode: Literal["None", "Sign", "SignAndEncrypt"] = "None"
    policy: Literal["Basic256Sha256", "Aes128Sha256RsaOaep", "Aes256Sha256RsaPss"] = "Basic256Sha256"
    certificate: Path | None = None
    private_key: Path | None = None
    server_certificate: Path | None = None
    username: str | None = None
    password_env: str | None = Field(default=None, description="Environment variable holding the password.")
    application_uri: str = Field(default="urn:linewatch:connector",
                                 description="Must match the URI in the client certificate.")

    @model_validator(mode="after")
    def _check(self) -> Security:
        if self.mode != "None" and (self.certificate is None or self.private_key is None):
            raise ValueError(f"security mode {self.mode} needs certificate and private_key")
        if self.username and not self.password_env:
            raise ValueError("username needs password_env (the name of the variable holding the password)")
        return self


class _SourceBase(_Strict):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,62}$", description="Short name; a metric label.")


class OpcUaSource(_SourceBase):
    protocol: Literal["opcua"]
    endpoint: str = Field(pattern=r"^opc\.tcp://", examples=["opc.tcp://10.0.0.5:4840"])
    security: Security = Field(default_factory=Security)
    mode: Literal["subscribe", "poll"] = Field(
        default="subscribe", description="poll is also used automatically if the server refuses subscriptions.")
    publishing_interval_ms: float = Field(default=1000, gt=0)
    sampling_interval_ms: float = Field(default=1000, ge=0)
    max_items_per_call: int = Field(default=1000, ge=1, description="Upper bound; server limits win if lower.")
    timeout_s: float = Field(default=5, gt=0)
    tags: list[OpcUaTag] = Field(min_length=1)


class SparkplugSource(_SourceBase):
    protocol: Literal["sparkplug"]
    host: str = "127.0.0.1"
    port: int = Field(default=1883, ge=1, le=65535)
    group_id: str = Field(min_length=1, description="Sparkplug group id: topics spBv1.0/<group>/...")
    client_id: str | None = None
    username: str | None = None
    password_env: str | None = None
    tls: bool = False
    ca_file: Path | None = None
    rebirth_on_gap: bool = True
    tags: list[SparkplugTag] = Field(min_length=1)


class ModbusSource(_SourceBase):
    protocol: Literal["modbus"]
    host: str
    port: int = Field(default=502, ge=1, le=65535)
    poll_interval_ms: float = Field(default=1000, gt=0)
    timeout_s: float = Field(default=3, gt=0)
    max_registers_per_read: int = Field(default=125, ge=1, le=125)
    tags: list[ModbusTag] = Field(min_length=1)


Source = Annotated[OpcUaSource | SparkplugSource | ModbusSource, Field(discriminator="protocol")]


class Mapping(_Strict):
    """A whole mapping file."""

    version: Literal[1] = 1
    plant: Path | None = Field(default=None, description="Plant file the machine ids are checked against.")
    sources: list[Source] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> Mapping:
        names = [s.name for s in self.sources]
        if len(set(names)) != len(names):
            raise ValueError(f"source names must be unique: {names}")
        owner: dict[str, str] = {}
        for src in self.sources:
            seen: set[tuple[str, str]] = set()
            for tag in src.tags:
                key = (tag.machine, tag.signal)
                if key in seen:
                    raise ValueError(f"source {src.name}: {tag.machine} {tag.signal} is mapped twice")
                seen.add(key)
                # One source per machine: its sequence numbers must come from one place.
                if owner.setdefault(tag.machine, src.name) != src.name:
                    raise ValueError(f"machine {tag.machine} is fed by two sources ({owner[tag.machine]}, "
                                     f"{src.name}); give each machine one source")
        return self

    def machines(self) -> list[str]:
        return sorted({t.machine for s in self.sources for t in s.tags})


def _line_index(node: yaml.Node, path: tuple[Any, ...], out: dict[tuple[Any, ...], int]) -> None:
    """Record the 1-based line of every value in the YAML tree, keyed by its field path."""
    out[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            k = key.value
            out[path + (k,)] = key.start_mark.line + 1
            _line_index(value, path + (k,), out)
            out[path + (k,)] = key.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _line_index(item, path + (i,), out)


UNION_TAGS = ("opcua", "sparkplug", "modbus")


def _clean_loc(loc: tuple[Any, ...]) -> tuple[Any, ...]:
    # Drop pydantic's union-branch tags ("opcua", "function-after[...]") so the path matches the YAML.
    return tuple(p for p in loc if not (isinstance(p, str) and (p in UNION_TAGS or "[" in p)))


def _describe(errors: list[Any], lines: dict[tuple[Any, ...], int], name: str) -> str:
    def where(loc: tuple[Any, ...]) -> str:
        probe = _clean_loc(loc)
        while probe and probe not in lines:
            probe = probe[:-1]
        return f"{name}:{lines.get(probe, 1)}: "

    return "\n".join(validation_lines(errors, limit=8, skip=UNION_TAGS, where=where))


def parse_mapping(text: str, name: str = "mapping") -> Mapping:
    """Parse and validate mapping YAML text; errors are ``ConfigError`` with ``name:line: field: reason``."""
    try:
        root = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{name}{where}: not valid YAML: {getattr(exc, 'problem', None) or exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{name}:1: expected a mapping with a 'sources' list at the top level")
    lines: dict[tuple[Any, ...], int] = {}
    _line_index(root, (), lines)
    try:
        return Mapping.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_describe(exc.errors(include_url=False), lines, name)) from exc


def load_mapping(path: str | Path) -> Mapping:
    """Read a mapping file; a relative ``plant`` path is resolved against the file's folder."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read mapping file: {exc.strerror or exc}") from exc
    mapping = parse_mapping(text, path.name)
    if mapping.plant is not None and not mapping.plant.is_absolute():
        mapping = mapping.model_copy(update={"plant": (path.parent / mapping.plant).resolve()})
    return mapping


def check_against_plant(mapping: Mapping, plant: Plant, name: str = "mapping") -> None:
    """Every mapped machine must exist in the plant and every signal must be one of its sensors."""
    problems = []
    for src in mapping.sources:
        for i, tag in enumerate(src.tags):
            try:
                machine = plant.machine(tag.machine)
            except KeyError:
                problems.append(f"{name}: source {src.name!r} tags[{i}].machine: {tag.machine!r} is not in "
                                f"plant {plant.id!r}")
                continue
            if tag.kind == "signal" and tag.signal not in {s.name for s in machine.sensors}:
                problems.append(f"{name}: source {src.name!r} tags[{i}].signal: {tag.signal!r} is not a sensor "
                                f"of {tag.machine}")
    if problems:
        raise ConfigError("\n".join(problems[:10]) + (f"\n(and {len(problems) - 10} more)"
                                                       if len(problems) > 10 else ""))
