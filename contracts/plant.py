"""The plant file: lines, machines, components and sensors (DESIGN.md §3).

One YAML file describes the plant; the simulator, the API, scoring and the connectors
all read it through :func:`load_plant`. Machine ids are ``<line>/<machine>``; in the
file a machine may give its short id (``cnc-01``) and the line id is prefixed.
Every sensor's name ends in its unit suffix (``spindle_vibration_rms_mm_s``) and carries
the normal range the API shows values against.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from contracts.errors import ConfigError
from contracts.failure_modes import CATALOGUE
from contracts.messages import MACHINE_ID_PATTERN, SIGNAL_NAME_PATTERN
from contracts.validation import validation_lines

MachineKind = Literal["cnc", "robot"]

#: Failure modes per machine kind: the label set every model and report uses (from the catalogue).
FAILURE_MODES: dict[str, list[str]] = {
    kind: [m.id for m in CATALOGUE if m.kind == kind] for kind in ("cnc", "robot")}

#: The component each failure mode lives in (``FailureOccurred.component``).
MODE_COMPONENT: dict[str, str] = {m.id: m.component for m in CATALOGUE}

#: Maintenance actions the simulated line obeys (``MaintenanceCommand.action``) -> failure mode restored.
ACTIONS: dict[str, str] = {m.action: m.id for m in CATALOGUE}

#: Recommended action per failure mode (inverse of ``ACTIONS``).
MODE_ACTION: dict[str, str] = {m.id: m.action for m in CATALOGUE}

#: Signal-name unit suffix -> unit text. Longest suffix wins (``_mm_s`` before ``_s``).
UNIT_SUFFIXES: dict[str, str] = {
    "_rpm": "rpm", "_nm": "N·m", "_kw": "kW", "_kwh": "kWh", "_mm_s": "mm/s", "_c": "°C",
    "_bar": "bar", "_l_min": "L/min", "_mm_min": "mm/min", "_a": "A", "_mm": "mm", "_um": "µm",
    "_ms": "ms", "_s": "s", "_pct": "%", "_v": "V", "_hz": "Hz", "_g": "g", "_arcmin": "arcmin",
    "_count": "count",
}


def unit_of(signal: str) -> str | None:
    """The unit a signal name declares by its suffix, or None if it has no known suffix."""
    for suffix in sorted(UNIT_SUFFIXES, key=len, reverse=True):
        if signal.endswith(suffix):
            return UNIT_SUFFIXES[suffix]
    return None


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Sensor(_Model):
    """One signal of a machine, with its unit, sample period and normal range."""

    name: str = Field(pattern=SIGNAL_NAME_PATTERN, examples=["spindle_vibration_rms_mm_s"])
    unit: str = Field(default="", description="Defaults to the unit of the name's suffix.")
    sample_period_s: float = Field(default=60.0, gt=0)
    normal_low: float
    normal_high: float
    label_en: str = ""
    label_zh: str = ""

    @model_validator(mode="before")
    @classmethod
    def _default_unit(cls, data: Any) -> Any:
        if isinstance(data, dict) and not data.get("unit") and isinstance(data.get("name"), str):
            data = {**data, "unit": unit_of(data["name"]) or ""}
        return data

    @model_validator(mode="after")
    def _check(self) -> Sensor:
        expected = unit_of(self.name)
        if expected is None:
            raise ValueError(f"signal name {self.name!r} must end in a unit suffix such as "
                             f"{', '.join(sorted(UNIT_SUFFIXES)[:8])}…")
        if self.unit != expected:
            raise ValueError(f"unit {self.unit!r} does not match the name's suffix (expected {expected!r})")
        if not self.normal_low < self.normal_high:
            raise ValueError(f"normal_low {self.normal_low} must be below normal_high {self.normal_high}")
        return self


class Component(_Model):
    """A maintainable part of a machine; ``failure_modes`` are the modes that live in it."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]{0,62}$")
    name: str = ""
    name_zh: str = ""
    failure_modes: list[str] = Field(default_factory=list)


class Machine(_Model):
    """A CNC machining centre or a robot cell."""

    id: str = Field(pattern=MACHINE_ID_PATTERN, examples=["line-1/cnc-01"])
    kind: MachineKind
    name: str
    name_zh: str = ""
    vendor: str = ""
    model: str = ""
    components: list[Component] = Field(default_factory=list)
    sensors: list[Sensor] = Field(min_length=1)
    sim: dict[str, float] = Field(default_factory=dict,
                                  description="Simulator parameter overrides (see simulators/README.md).")

    @model_validator(mode="after")
    def _check(self) -> Machine:
        names = [s.name for s in self.sensors]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"duplicate sensors {dupes}")
        for comp in self.components:
            unknown = [m for m in comp.failure_modes if m not in FAILURE_MODES[self.kind]]
            if unknown:
                raise ValueError(f"component {comp.id!r}: failure modes {unknown} are not {self.kind} modes "
                                 f"{FAILURE_MODES[self.kind]}")
        return self

    @property
    def line_id(self) -> str:
        return self.id.split("/", 1)[0]

    @property
    def failure_modes(self) -> list[str]:
        """The failure modes of this machine's kind."""
        return list(FAILURE_MODES[self.kind])

    def sensor(self, name: str) -> Sensor:
        """The sensor called ``name``; KeyError if the machine has none."""
        for s in self.sensors:
            if s.name == name:
                return s
        raise KeyError(f"{self.id} has no sensor {name!r}")

    @property
    def sample_period_s(self) -> float:
        """The machine's telemetry period: its fastest sensor's."""
        return min(s.sample_period_s for s in self.sensors)


class Line(_Model):
    """A production line of machines of one or more kinds."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,62}$")
    name: str = ""
    name_zh: str = ""
    machines: list[Machine] = Field(min_length=1)

    @model_validator(mode="before")
    @classmethod
    def _qualify_ids(cls, data: Any) -> Any:
        # In the file a machine may say ``cnc-01``; its full id is ``<line>/cnc-01``.
        if isinstance(data, dict) and isinstance(data.get("machines"), list) and isinstance(data.get("id"), str):
            machines = []
            for m in data["machines"]:
                if isinstance(m, dict) and isinstance(m.get("id"), str) and "/" not in m["id"]:
                    m = {**m, "id": f"{data['id']}/{m['id']}"}
                machines.append(m)
            data = {**data, "machines": machines}
        return data

    @model_validator(mode="after")
    def _check(self) -> Line:
        for m in self.machines:
            if m.line_id != self.id:
                raise ValueError(f"machine {m.id!r} is not on line {self.id!r}")
        return self


class Plant(_Model):
    """The whole plant: ``plant.machines()``, ``plant.machine(id)``, ``plant.line(id)``."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,62}$")
    name: str = ""
    name_zh: str = ""
    timezone: str = Field(default="UTC", description="Plant local time zone, for shift display only.")
    lines: list[Line] = Field(min_length=1)

    @field_validator("lines")
    @classmethod
    def _unique(cls, lines: list[Line]) -> list[Line]:
        seen: set[str] = set()
        for ident in [ln.id for ln in lines] + [m.id for ln in lines for m in ln.machines]:
            if ident in seen:
                raise ValueError(f"duplicate id {ident!r}")
            seen.add(ident)
        return lines

    def machines(self, kind: str | None = None) -> list[Machine]:
        """All machines in file order, optionally only those of one kind."""
        return [m for ln in self.lines for m in ln.machines if kind is None or m.kind == kind]

    def machine(self, machine_id: str) -> Machine:
        """The machine with this id; KeyError naming the id if there is none."""
        for m in self.machines():
            if m.id == machine_id:
                return m
        raise KeyError(f"plant {self.id!r} has no machine {machine_id!r}")

    def line(self, line_id: str) -> Line:
        """The line with this id; KeyError naming the id if there is none."""
        for ln in self.lines:
            if ln.id == line_id:
                return ln
        raise KeyError(f"plant {self.id!r} has no line {line_id!r}")


def parse_plant(data: Any, source: str = "plant") -> Plant:
    """Validate already-parsed plant data; errors name ``source`` and the field path.

    Top-level keys starting with ``x-`` are ignored: like docker-compose extension fields
    they hold YAML anchors (shared sensor lists) that machines reference.
    """
    if isinstance(data, dict):
        data = {k: v for k, v in data.items() if not str(k).startswith("x-")}
    try:
        return Plant.model_validate(data)
    except ValidationError as exc:
        lines = validation_lines(exc.errors(include_url=False), limit=8, where=lambda _: f"{source}: ")
        raise ConfigError("\n".join(lines)) from exc


def load_plant(path: str | Path) -> Plant:
    """Read and validate a plant YAML file; any problem is a ``ConfigError`` naming file and field."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read plant file: {exc.strerror or exc}") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path.name}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path.name}: expected a mapping with 'id' and 'lines' at the top level")
    return parse_plant(data, path.name)
