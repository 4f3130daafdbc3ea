"""The operator UI is written against the API's OpenAPI schema: it reads each field under its one
name (no `p.ts || p.time` guesses) and every field it reads from a typed answer is in the schema."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from contracts.messages import Factor, FailureOccurred, MaintenanceDone, PartCompleted, PlcAlarm, StateChanged
from services.api import create_app
from store import Store
from tests.unit.api.conftest import make_settings

JS = Path(__file__).resolve().parents[3] / "services" / "api" / "ui" / "js"

# `x.a || x.b`, `x?.a ?? x.b`: one object read under two field names (a lookahead, so chains overlap)
_SAME_OBJECT = re.compile(r"(?<![\w$.])([A-Za-z_$][\w$]*)\??\.(\w+)\s*(?:\|\||\?\?)\s*(?=\1\??\.(\w+))")
# `p[key] ?? p.value`: a computed field with a named one as the guess
_COMPUTED = re.compile(r"\b([A-Za-z_$][\w$]*)\[\w+\]\s*(?:\|\||\?\?)\s*\1\??\.\w+")
# `Array.isArray(res) ? res : res.items`: a guess between a bare list and an envelope
_ENVELOPE = re.compile(r"Array\.isArray\((\w+)\)\s*\?\s*\1\s*:\s*\1\.")


def shape_fallbacks(text: str) -> list[str]:
    """Each place in ``text`` where the UI guesses between field names or envelopes."""
    found = [f"{m[1]}.{m[2]} / {m[1]}.{m[3]}" for m in _SAME_OBJECT.finditer(text) if m[2] != m[3]]
    return found + [m.group(0) for m in _COMPUTED.finditer(text)] + [m.group(0) for m in _ENVELOPE.finditer(text)]


def test_the_fallback_finder_finds_the_old_guesses():
    old = ("Date.parse(p.ts || p.t || p.time), p[valueKey] ?? p.value ?? p.mean; if (p.mode || p.failure_mode) x;"
           " e.kind || e.payload?.kind; const l = Array.isArray(res) ? res : res.items || [];")
    assert shape_fallbacks(old) == ["p.ts / p.t", "p.t / p.time", "p.value / p.mean", "p.mode / p.failure_mode",
                                    "e.kind / e.payload", "p[valueKey] ?? p.value", "Array.isArray(res) ? res : res."]
    assert shape_fallbacks('a.shelved_by || ""; (zh ? a.message_zh : a.message_en) || a.message_en; x.a || y.b') == []


@pytest.mark.parametrize("path", sorted(JS.rglob("*.js")), ids=lambda p: str(p.relative_to(JS)))
def test_the_ui_reads_each_field_under_one_name(path: Path):
    assert shape_fallbacks(path.read_text(encoding="utf-8")) == []


@pytest.fixture(scope="module")
def components(tmp_path_factory: pytest.TempPathFactory) -> dict[str, set[str]]:
    settings = make_settings(tmp_path_factory.mktemp("openapi"))
    store = Store.open(settings.store)
    try:
        schema: dict[str, Any] = create_app(settings, store).openapi()
    finally:
        store.close()
    return {name: set(c.get("properties", {})) for name, c in schema["components"]["schemas"].items()}


def _fields(*models: type[BaseModel]) -> set[str]:
    return {f for m in models for f in m.model_fields}


EVENT_PAYLOAD = _fields(PartCompleted, FailureOccurred, MaintenanceDone, StateChanged, PlcAlarm)
PLANT_MACHINE_EXTRAS = {"line", "id", "machineId"}  # what plant.js adds to a MachineSummary

# (file, JS variable, OpenAPI component, fields the UI adds or a contract model holds)
READS: list[tuple[str, str, str | None, set[str]]] = [
    ("plant.js", "plant", "PlantPublic", set()),
    ("plant.js", "line", "LinePublic", set()),
    ("plant.js", "m", "MachineSummary", set()),
    ("app.js", "me", "MePublic", set()),
    ("app.js", "alertPage", "AlertPage", set()),
    ("pages/login.js", "res", "TokenPublic", set()),
    ("series.js", "res", "TelemetryHistory", set()),
    ("series.js", "p", "ScorePoint", set()),
    ("pages/machine.js", "detail", "MachineDetail", set()),
    ("pages/machine.js", "score", "MachineDetail", set()),
    ("pages/machine.js", "scores", "ScoreHistory", {"error"}),  # {error} when the call failed
    ("pages/machine.js", "telemetry", "TelemetryHistory", {"error"}),
    ("pages/machine.js", "alerts", "AlertPage", set()),
    ("pages/machine.js", "a", "AlertPublic", set()),
    ("pages/machine.js", "s", "SensorPublic", set()),
    ("pages/machine.js", "f", None, _fields(Factor)),
    ("pages/machine_tables.js", "s", "SensorPublic", set()),
    ("pages/machine_tables.js", "e", "EventPublic", set()),
    ("pages/machine_tables.js", "p", None, EVENT_PAYLOAD),
    ("pages/alert_detail.js", "a", "AlertDetail", set()),
    ("pages/alert_detail.js", "r", "Rationale", set()),
    ("pages/alert_detail.js", "e", "AuditPublic", set()),
    ("pages/alert_detail.js", "c", "CommentPublic", set()),
    ("pages/alert_detail.js", "factor", None, _fields(Factor)),
    ("pages/alerts.js", "a", "AlertPublic", set()),
    ("pages/alerts.js", "b", "AlertPublic", set()),
    ("pages/overview.js", "m", "MachineSummary", PLANT_MACHINE_EXTRAS),
    ("pages/overview.js", "line", "LinePublic", set()),
    ("pages/overview.js", "res", "ScoreHistory", set()),
    ("pages/overview.js", "p", "ScorePoint", set()),
]
_METHODS = {"length", "map", "filter", "slice", "forEach", "find", "flatMap", "includes", "split", "replace", "push",
            "sort", "join", "startsWith", "toLowerCase"}  # Array / String members, not response fields


def reads(text: str, var: str) -> set[str]:
    """The fields ``text`` reads from the variable ``var`` (``var.f`` / ``var?.f``, method calls aside)."""
    return {f for f in re.findall(rf"(?<![\w$.]){re.escape(var)}\??\.([A-Za-z_]\w*)", text)} - _METHODS


@pytest.mark.parametrize(("file", "var", "component", "extra"), READS, ids=[f"{r[0]}:{r[1]}" for r in READS])
def test_the_fields_the_ui_reads_are_in_the_openapi_schema(components: dict[str, set[str]], file: str, var: str,
                                                           component: str | None, extra: set[str]):
    used = reads((JS / file).read_text(encoding="utf-8"), var)
    assert used, f"{file} reads nothing from {var!r}: the table above is out of date"
    known = (components[component] if component else set()) | extra
    assert used <= known, f"{file}: {var}.{sorted(used - known)} not in {component or 'the contract models'}"


def test_the_schema_check_fails_on_a_field_the_schema_does_not_have(components: dict[str, set[str]]):
    assert reads("x = m.open_alert_count ?? m.open_alerts; m.machine_id.split('/')", "m") == {
        "open_alert_count", "open_alerts", "machine_id"}
    assert not reads("x = m.open_alert_count ?? m.open_alerts", "m") <= components["MachineSummary"]


@pytest.mark.parametrize(("file", "component"), [("series.js", "TelemetryPoint"), ("pages/machine.js", "ScorePoint")])
def test_the_values_the_charts_plot_are_in_the_point_models(components: dict[str, set[str]], file: str, component: str):
    keys = set(re.findall(r"toPoints\([^;]*?,\s*\"(\w+)\"\)", (JS / file).read_text(encoding="utf-8")))
    assert keys, f"{file} plots nothing with toPoints(points, \"field\")"
    assert keys <= components[component], f"{file}: {sorted(keys - components[component])} not in {component}"
