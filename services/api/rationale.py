"""ISA-18.2 alarm rationalisation per alert type (failure mode): cause, consequence,
corrective action and time to respond. Priority follows from consequence and time to
respond; the scorer's priority is shown, this is the documented reasoning behind it."""

from __future__ import annotations

from contracts.plant import MODE_ACTION

# mode: (cause en, cause zh, consequence en, consequence zh, action en, action zh, minutes to respond)
CATALOGUE: dict[str, tuple[str, str, str, str, str, str, int]] = {
    "tool_wear": ("Cutting tool flank wear near its limit", "刀具后刀面磨损接近极限",
                  "Rough surfaces and out-of-tolerance parts, then tool breakage", "表面粗糙、零件超差，继而断刀",
                  "Replace the tool at the next tool change", "在下次换刀时更换刀具", 60),
    "spindle_bearing": ("Spindle bearing damage (vibration rising toward ISO 10816 limits)",
                        "主轴轴承损伤（振动接近 ISO 10816 限值）",
                        "Spindle seizure: days of downtime and an expensive repair", "主轴抱死：停机数天且维修昂贵",
                        "Plan a spindle bearing service within the RUL", "在剩余寿命内安排主轴轴承检修", 240),
    "coolant": ("Coolant pump, filter or level fault", "冷却液泵、过滤器或液位故障",
                "Overheated tool and workpiece, thermal drift, defects", "刀具和工件过热、热漂移、缺陷",
                "Check coolant pump, filter and level", "检查冷却液泵、过滤器和液位", 30),
    "reducer_wear": ("Joint reducer wear (friction and backlash rising)", "关节减速机磨损（摩擦和背隙增大）",
                     "Placement errors, then joint failure and cell stop", "放置误差，继而关节故障、单元停机",
                     "Plan a reducer replacement", "安排更换减速机", 480),
    "gripper_leak": ("Gripper air leak", "夹爪气压泄漏", "Slower cycles and dropped parts",
                     "节拍变慢、掉件", "Check gripper air lines and seals", "检查夹爪气管和密封件", 60),
    "servo_overheat": ("Servo motor overheating", "伺服电机过热", "Servo trip and cell stop",
                       "伺服报警跳闸、单元停机", "Inspect the servo motor and its cooling", "检查伺服电机及其散热", 30),
}


def rationale(mode: str) -> dict[str, object]:
    """The rationale of an alert type; unknown modes get a generic inspection entry."""
    entry = CATALOGUE.get(mode, (f"Model predicts failure mode {mode}", f"模型预测故障模式 {mode}",
                                 "Possible unplanned stop", "可能发生非计划停机",
                                 "Inspect the machine", "检查设备", 120))
    keys = ("cause_en", "cause_zh", "consequence_en", "consequence_zh", "corrective_action_en",
            "corrective_action_zh", "time_to_respond_minutes")
    return dict(zip(keys, entry, strict=True)) | {"recommended_action": MODE_ACTION.get(mode)}
