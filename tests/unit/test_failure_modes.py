"""One failure-mode catalogue: every place that names a mode uses contracts/failure_modes.py.

A mode's English or zh-CN name that differs anywhere (python modules, the UI dictionaries, the
plant files) fails here, so one mode never shows under two names on one screen.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from contracts.failure_modes import BY_ID, CATALOGUE
from contracts.plant import ACTIONS, FAILURE_MODES, MODE_ACTION, MODE_COMPONENT, load_plant
from pipelines.health.text import mode_text, recommended_action
from services.api.rationale import rationale
from services.pilot.decision import DEFAULT_ACTION_COSTS

ROOT = Path(__file__).resolve().parents[2]
I18N = ROOT / "services" / "api" / "ui" / "i18n"
PLANTS = sorted((ROOT / "simulators" / "plants").glob("*.yaml"))
# Where a mode's name would be written: a component term followed by a failure word.
_ZH_FAILURE = "故障|损伤|损坏|磨损|泄漏|漏气|过热"
_EN_FAILURE = "damage|failure|fault|wear|leak|leakage|overheating|overheat"


def _sources() -> list[Path]:
    """Product Python modules and the UI dictionaries and plant files (tests and docs excluded)."""
    py = [p for top in ("contracts", "runtime", "store", "simulators", "pipelines", "services")
          for p in (ROOT / top).rglob("*.py") if p.name != "failure_modes.py"]
    return py + sorted(I18N.glob("*.json")) + PLANTS


def _drift_patterns() -> list[tuple[str, re.Pattern[str], str]]:
    """(mode, pattern of any name for it, the one right name) per mode and language."""
    out = []
    for m in CATALOGUE:
        zh_stem = re.match(r"^(.+?)(?:" + _ZH_FAILURE + ")$", m.name_zh)
        en_stem = re.match(r"^(.+?) (?:" + _EN_FAILURE + ")$", m.name_en, re.IGNORECASE)
        assert zh_stem and en_stem, f"{m.id}: the name must end in a failure word so drift can be found"
        out.append((m.id, re.compile(re.escape(zh_stem.group(1)) + r"[\u4e00-\u9fff]{0,2}?(?:" + _ZH_FAILURE + ")"),
                    m.name_zh))
        out.append((m.id, re.compile(r"\b" + re.escape(en_stem.group(1)) + r" (?:" + _EN_FAILURE + r")\b",
                                     re.IGNORECASE), m.name_en))
    return out


def test_no_other_name_for_a_mode_anywhere() -> None:
    drift = []
    for path in _sources():
        text = path.read_text(encoding="utf-8")
        for mode, pattern, name in _drift_patterns():
            drift += [f"{path.relative_to(ROOT)}: {mode} called {hit!r}, the catalogue says {name!r}"
                      for hit in pattern.findall(text) if hit.lower() != name.lower()]
    assert drift == []


def test_the_drift_check_can_fail() -> None:
    hits = [hit for _, pattern, _ in _drift_patterns() for hit in pattern.findall("主轴轴承故障; 夹爪气压泄漏")]
    assert hits == ["主轴轴承故障", "夹爪气压泄漏"]


def test_ui_dictionaries_name_every_mode_as_the_catalogue() -> None:
    en = json.loads((I18N / "en.json").read_text(encoding="utf-8"))
    zh = json.loads((I18N / "zh-CN.json").read_text(encoding="utf-8"))
    for m in CATALOGUE:
        assert (en[f"mode.{m.id}"], zh[f"mode.{m.id}"]) == (m.name_en, m.name_zh), m.id


def test_health_text_api_and_pilot_read_the_catalogue() -> None:
    for m in CATALOGUE:
        assert mode_text(m.id) == (m.name_en, m.name_zh)
        assert recommended_action(m.id) == (m.action, m.action_en, m.action_zh)
        why = rationale(m.id)
        assert (why["cause_zh"], why["corrective_action_zh"], why["recommended_action"]) == (
            m.rationale.cause_zh, m.action_zh, m.action)
        assert DEFAULT_ACTION_COSTS[m.id].repair_parts_cost == m.costs.repair_parts_cost
    assert set(DEFAULT_ACTION_COSTS) == set(BY_ID)


def test_plant_lists_derive_from_the_catalogue() -> None:
    assert sorted(FAILURE_MODES["cnc"] + FAILURE_MODES["robot"]) == sorted(BY_ID)
    assert {MODE_ACTION[m] for m in BY_ID} == set(ACTIONS) and all(ACTIONS[MODE_ACTION[m]] == m for m in BY_ID)
    for path in PLANTS:
        for machine in load_plant(path).machines():
            for comp in machine.components:
                for mode in comp.failure_modes:
                    assert MODE_COMPONENT[mode] == comp.id, f"{path.name}: {machine.id} {comp.id} {mode}"
