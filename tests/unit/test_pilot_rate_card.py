"""Where the pilot's maintenance prices come from (issue 13 item 4): the plant's rate-card file,
else the training history's repairs, else the built-in planner's card; each price names its source."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from contracts.errors import ConfigError
from services.cli.pilot import read_rate_card
from services.pilot.config import PilotConfig
from services.pilot.decision import DEFAULT_ACTION_COSTS
from services.pilot.pilot import price_list, with_history_rate_card

BASIS = {"seed": 424242, "start": "2026-01-01T00:00:00+00:00", "end": "2026-03-02T00:00:00+00:00",
         "repairs_observed": {"tool_wear": {"hours": [0.8, 1.0, 1.5], "parts_cost": [100.0, 120.0, 170.0]},
                              "coolant": {"hours": [5.0, 7.0], "parts_cost": [400.0, 500.0]}}}


def sources(config: PilotConfig) -> dict[str, str]:
    return {row["price"]: row["source"] for row in price_list(config, BASIS)}


def test_repair_prices_are_the_mean_of_the_history_repairs_where_there_are_enough() -> None:
    config = with_history_rate_card(PilotConfig(), BASIS)
    tool = config.action_costs["tool_wear"]
    assert (tool.repair_hours, tool.repair_parts_cost) == pytest.approx((1.1, 130.0))
    # planned prices: run-to-failure history has no planned actions, the card's stay
    assert tool.planned_hours == DEFAULT_ACTION_COSTS["tool_wear"].planned_hours
    assert config.action_costs["coolant"] == DEFAULT_ACTION_COSTS["coolant"]   # 2 repairs < 3
    src = sources(config)
    assert "mean of the 3 corrective repairs of tool_wear" in src["tool_wear.repair_hours"]
    assert "seed 424242" in src["tool_wear.repair_parts_cost"]
    assert src["tool_wear.planned_hours"].startswith("built-in demo rate card")
    assert "holds 2 repair(s) of this mode, fewer than the 3" in src["coolant.repair_hours"]


def test_the_plant_rate_card_wins_over_the_history_and_the_switch_turns_estimates_off(tmp_path: Path) -> None:
    card = tmp_path / "rates.yaml"
    card.write_text("tool_wear: {repair_hours: 2.5, planned_parts_cost: 55}\n", encoding="utf-8")
    config = with_history_rate_card(PilotConfig(**read_rate_card(card)), BASIS)
    tool = config.action_costs["tool_wear"]
    assert (tool.repair_hours, tool.planned_parts_cost) == (2.5, 55)        # the plant's
    assert tool.repair_parts_cost == pytest.approx(130.0)                  # not in the file: history
    src = sources(config)
    assert src["tool_wear.repair_hours"] == src["tool_wear.planned_parts_cost"] == f"the plant's rate card {card}"
    off = with_history_rate_card(PilotConfig(repair_costs_from_history=False), BASIS)
    assert off.action_costs == DEFAULT_ACTION_COSTS


@pytest.mark.parametrize("text, message", [
    ("tool_ware: {repair_hours: 2}\n", "'tool_ware' is not a failure mode; use one of"),
    ("tool_wear: {repair_hours: -1}\n", "tool_wear.repair_hours: Input should be greater than or equal to 0"),
    ("tool_wear: {repair_minutes: 30}\n", "tool_wear.repair_minutes: Extra inputs are not permitted"),
    ("tool_wear: 3\n", "tool_wear: give a mapping of prices"),
    ("- tool_wear\n", "must be a mapping"),
    ("tool_wear: {repair_hours: [\n", "not valid YAML"),
])
def test_a_bad_rate_card_names_the_file_and_the_field(tmp_path: Path, text: str, message: str) -> None:
    card = tmp_path / "rates.yaml"
    card.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        read_rate_card(card)
    assert str(err.value).startswith(f"{card}: ") and message in str(err.value)


@pytest.mark.parametrize("text", ["tool_ware: {repair_hours: 2}\n", "tool_wear: {repair_hours: [\n"])
def test_the_pilot_command_refuses_a_bad_rate_card_with_exit_2_and_one_line(tmp_path: Path, text: str) -> None:
    card = tmp_path / "rates.yaml"
    card.write_text(text, encoding="utf-8")
    out = subprocess.run([sys.executable, "-m", "services.cli", "pilot", "--rate-card", str(card), "--out",
                          str(tmp_path / "out")], capture_output=True, text=True, timeout=120)
    assert out.returncode == 2, out.stderr
    assert "Traceback" not in out.stderr + out.stdout and "rates.yaml" in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()
