"""The operator UI's dictionaries: same keys in both languages, glossary terms, every key the
code uses exists."""

from __future__ import annotations

import json
import re
from pathlib import Path

UI = Path(__file__).resolve().parents[2] / "services" / "api" / "ui"


def _dict(name: str) -> dict[str, str]:
    return json.loads((UI / "i18n" / f"{name}.json").read_text(encoding="utf-8"))


def test_both_languages_have_the_same_keys_and_placeholders():
    en, zh = _dict("en"), _dict("zh-CN")
    assert set(en) == set(zh)
    for key in en:
        assert set(re.findall(r"\{(\w+)\}", en[key])) == set(re.findall(r"\{(\w+)\}", zh[key])), key


def test_chinese_uses_the_glossary_terms():
    zh = _dict("zh-CN")
    expected = {"nav.alerts": "告警", "alerts.acknowledge": "确认", "alerts.assign": "指派", "alerts.shelve": "搁置",
                "alerts.resolve": "处理完成", "outcome.false_alarm": "误报", "outcome.no_fault_found": "未发现故障",
                "kpi.defect_rate": "不良品率", "alert_state.suppressed": "按设计抑制", "models.champion": "在线模型",
                "models.challenger": "候选模型", "role.operator": "操作员"}
    for key, term in expected.items():
        assert zh[key] == term, key
    assert "剩余使用寿命（RUL）" in zh["machine.rul"] and "设备综合效率（OEE）" == zh["kpi.oee"]
    assert all("报警" not in v for k, v in zh.items() if k != "event.plc_alarm")  # one term: 告警


def test_every_literal_key_used_in_the_code_exists():
    en = _dict("en")
    used = set()
    for js in UI.glob("js/**/*.js"):
        used |= set(re.findall(r"""\bt\(\s*["']([a-z_]+\.[a-z0-9_.]+)["']""", js.read_text(encoding="utf-8")))
    html = (UI / "index.html").read_text(encoding="utf-8")
    used |= set(re.findall(r'data-i18n="([^"]+)"', html))
    assert used, "no keys found: the pattern is wrong"
    assert sorted(used - set(en)) == []
