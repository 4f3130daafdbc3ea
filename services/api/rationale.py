"""ISA-18.2 alarm rationalisation per alert type (failure mode): cause, consequence,
corrective action and time to respond. Priority follows from consequence and time to
respond; the scorer's priority is shown, this is the documented reasoning behind it.
The texts are the failure-mode catalogue's (contracts/failure_modes.py)."""

from __future__ import annotations

from contracts.failure_modes import failure_mode


def rationale(mode: str) -> dict[str, object]:
    """The rationale of an alert type; unknown modes get a generic inspection entry."""
    entry = failure_mode(mode)
    if entry is None:
        return {"cause_en": f"Model predicts failure mode {mode}", "cause_zh": f"模型预测故障模式 {mode}",
                "consequence_en": "Possible unplanned stop", "consequence_zh": "可能发生非计划停机",
                "corrective_action_en": "Inspect the machine", "corrective_action_zh": "检查设备",
                "time_to_respond_minutes": 120, "recommended_action": None}
    why = entry.rationale
    return {"cause_en": why.cause_en, "cause_zh": why.cause_zh,
            "consequence_en": why.consequence_en, "consequence_zh": why.consequence_zh,
            "corrective_action_en": entry.action_en, "corrective_action_zh": entry.action_zh,
            "time_to_respond_minutes": why.time_to_respond_minutes, "recommended_action": entry.action}
