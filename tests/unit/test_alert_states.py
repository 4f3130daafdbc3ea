"""One set of open alert states: the UI's (hmi.js) is the store's ISA-18.2 life cycle's."""

from __future__ import annotations

import re
from pathlib import Path

from store.lifecycle import OPEN_STATES, AlertState

HMI = Path(__file__).resolve().parents[2] / "services" / "api" / "ui" / "js" / "hmi.js"


def _js_set(name: str, text: str, known: dict[str, set[str]]) -> set[str]:
    body = re.search(rf"export const {name} = new Set\(\[(.*?)\]\);", text)
    assert body, f"{name} not found in hmi.js"
    out: set[str] = set()
    for item in body.group(1).split(","):
        item = item.strip()
        out |= known[item[3:]] if item.startswith("...") else {item.strip('"')}
    return out


def test_ui_open_and_unacknowledged_states_are_the_life_cycle_s() -> None:
    text = HMI.read_text(encoding="utf-8")
    unack = _js_set("UNACK_STATES", text, {})
    assert unack == {AlertState.UNACKNOWLEDGED, AlertState.RTN_UNACKNOWLEDGED}
    assert _js_set("OPEN_STATES", text, {"UNACK_STATES": unack}) == set(OPEN_STATES)
