"""The failure-mode catalogue: the one definition of every failure mode the plant knows.

Each mode has its machine kind, the component it lives in, its English and zh-CN names
(terms from /work/shared/GLOSSARY.md), the maintenance action that restores it with that
action's text, the ISA-18.2 rationale of its alerts, the demo plant's default rate card and
the planning lead time the plant needs before that action (what the health score weighs
urgency against, ``docs/scoring.md``).
Health text, the API (rationale, actions), the pilot (costs), the simulator (actions) and the
UI dictionaries (``mode.<id>``, checked against this by tests/unit/test_failure_modes.py) all
take it from here; ``contracts.plant`` derives its per-kind lists from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["cnc", "robot"]


@dataclass(frozen=True)
class Rationale:
    """Why an alert of this mode matters (ISA-18.2 alarm rationalisation)."""

    cause_en: str
    cause_zh: str
    consequence_en: str
    consequence_zh: str
    time_to_respond_minutes: int


@dataclass(frozen=True)
class RateCard:
    """A maintenance planner's figures for one mode (CNY, hours; quoted, not measured)."""

    planned_hours: float
    planned_parts_cost: float
    repair_hours: float
    repair_parts_cost: float


@dataclass(frozen=True)
class FailureMode:
    """One failure mode: names, component, restoring action, rationale and default costs."""

    id: str
    kind: Kind
    component: str
    name_en: str
    name_zh: str
    action: str
    action_en: str
    action_zh: str
    rationale: Rationale
    costs: RateCard
    planning_lead_h: float  # hours the plant needs to plan the action (parts, people, a stop)


CATALOGUE: tuple[FailureMode, ...] = (
    FailureMode(
        "tool_wear", "cnc", "tool", "Tool wear", "刀具磨损",
        "replace_tool", "Replace the cutting tool at the next tool change", "在下次换刀时更换刀具",
        Rationale("Cutting tool flank wear near its limit", "刀具后刀面磨损接近极限",
                  "Rough surfaces and out-of-tolerance parts, then tool breakage", "表面粗糙、零件超差，继而断刀", 60),
        RateCard(planned_hours=0.1, planned_parts_cost=40, repair_hours=1.0, repair_parts_cost=120),
        planning_lead_h=0.5),  # at the next cycle break
    FailureMode(
        "spindle_bearing", "cnc", "spindle_bearing", "Spindle bearing damage", "主轴轴承损伤",
        "service_spindle_bearing", "Plan a spindle bearing service", "安排主轴轴承检修",
        Rationale("Spindle bearing damage (vibration rising toward ISO 10816 limits)",
                  "主轴轴承损伤（振动接近 ISO 10816 限值）",
                  "Spindle seizure: days of downtime and an expensive repair", "主轴抱死：停机数天且维修昂贵", 240),
        RateCard(planned_hours=8, planned_parts_cost=2500, repair_hours=72, repair_parts_cost=10000),
        planning_lead_h=48.0),  # parts and a technician booked: two days
    FailureMode(
        "coolant", "cnc", "coolant_system", "Coolant system fault", "冷却液系统故障",
        "service_coolant", "Check coolant pump, filter and level", "检查冷却液泵、过滤器和液位",
        Rationale("Coolant pump, filter or level fault", "冷却液泵、过滤器或液位故障",
                  "Overheated tool and workpiece, thermal drift, defects", "刀具和工件过热、热漂移、缺陷", 30),
        RateCard(planned_hours=1, planned_parts_cost=150, repair_hours=6, repair_parts_cost=450),
        planning_lead_h=4.0),  # filter and pump next shift
    FailureMode(  # joint 2 (shoulder) reducer: the most loaded one
        "reducer_wear", "robot", "reducer", "Reducer wear", "减速机磨损",
        "replace_reducer", "Plan a reducer replacement", "安排更换减速机",
        Rationale("Joint reducer wear (friction and backlash rising)", "关节减速机磨损（摩擦和背隙增大）",
                  "Placement errors, then joint failure and cell stop", "放置误差，继而关节故障、单元停机", 480),
        RateCard(planned_hours=6, planned_parts_cost=6000, repair_hours=42, repair_parts_cost=18000),
        planning_lead_h=48.0),  # parts and a technician booked: two days
    FailureMode(
        "gripper_leak", "robot", "gripper", "Gripper air leak", "夹爪漏气",
        "repair_gripper", "Check gripper air lines and seals", "检查夹爪气管和密封件",
        Rationale("Gripper air leak", "夹爪漏气", "Slower cycles and dropped parts", "节拍变慢、掉件", 60),
        RateCard(planned_hours=0.5, planned_parts_cost=300, repair_hours=3, repair_parts_cost=600),
        planning_lead_h=4.0),  # seals next shift
    FailureMode(  # joint 3 servo motor
        "servo_overheat", "robot", "servo", "Servo overheating", "伺服过热",
        "service_servo", "Inspect the servo motor and its cooling", "检查伺服电机及其散热",
        Rationale("Servo motor overheating", "伺服电机过热", "Servo trip and cell stop", "伺服报警跳闸、单元停机", 30),
        RateCard(planned_hours=2, planned_parts_cost=900, repair_hours=12, repair_parts_cost=2700),
        planning_lead_h=8.0),  # fan and motor check within a shift
)

#: Mode id -> its catalogue entry.
BY_ID: dict[str, FailureMode] = {m.id: m for m in CATALOGUE}

#: Mode id -> hours the plant needs to plan its action (the demo plant's defaults).
PLANNING_LEAD_H: dict[str, float] = {m.id: m.planning_lead_h for m in CATALOGUE}


def failure_mode(mode: str) -> FailureMode | None:
    """The catalogue entry of ``mode``, or None for a mode the catalogue does not know."""
    return BY_ID.get(mode)
