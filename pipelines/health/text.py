"""Alert texts in English and zh-CN (terms from /work/shared/GLOSSARY.md).

A message states the mode, the probability within the horizon, the RUL and the main
factors as one sentence, each factor with its value against the machine's normal range,
so an operator sees *why* without opening a chart.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from contracts.failure_modes import failure_mode
from contracts.messages import Factor

# Tokens of unit-suffixed signal names, in plant language.
_TOKENS: dict[str, tuple[str, str]] = {
    "spindle": ("spindle", "主轴"), "bearing": ("bearing", "轴承"), "vibration": ("vibration", "振动"),
    "rms": ("RMS", "有效值"), "temp": ("temperature", "温度"), "power": ("power", "功率"),
    "torque": ("torque", "扭矩"), "current": ("current", "电流"), "coolant": ("coolant", "冷却液"),
    "pressure": ("pressure", "压力"), "flow": ("flow", "流量"), "speed": ("speed", "转速"),
    "joint": ("joint", "关节"), "motor": ("motor", "电机"), "gripper": ("gripper", "夹爪"),
    "air": ("air", "气压"), "position": ("position", "位置"), "error": ("error", "误差"),
    "feed": ("feed", "进给"), "axis": ("axis", "轴"), "cycle": ("cycle", "节拍"), "time": ("time", "时间"),
    "energy": ("energy", "能耗"), "load": ("load", "负载"), "tool": ("tool", "刀具"), "servo": ("servo", "伺服"),
    "reducer": ("reducer", "减速机"), "acoustic": ("acoustic", "声发射"), "cutting": ("cutting", "切削"),
}
_UNITS: dict[str, str] = {"l_min": "L/min", "mm_min": "mm/min", "ms": "ms", "c": "°C", "mm_s": "mm/s", "kw": "kW",
                          "rpm": "rpm", "bar": "bar", "a": "A",
                          "nm": "N·m", "um": "µm", "mm": "mm", "s": "s", "kwh": "kWh", "pct": "%", "lpm": "L/min",
                          "deg": "°", "hz": "Hz", "g": "g"}


def mode_text(mode: str) -> tuple[str, str]:
    """(English, zh-CN) name of a failure mode (contracts.failure_modes); unknown modes keep their id."""
    entry = failure_mode(mode)
    if entry is None:
        return mode.replace("_", " ").capitalize(), mode
    return entry.name_en, entry.name_zh


def recommended_action(mode: str) -> tuple[str, str, str]:
    """(command action, English, zh-CN) for a mode; unknown modes get an inspection."""
    entry = failure_mode(mode)
    if entry is None:
        return "inspect_machine", "Inspect the machine", "检查设备"
    return entry.action, entry.action_en, entry.action_zh


def _split_unit(signal: str) -> tuple[list[str], str]:
    parts = signal.split("_")
    for n in (2, 1):  # two-token units first: mm_s
        unit = "_".join(parts[-n:])
        if len(parts) > n and unit in _UNITS:
            return parts[:-n], _UNITS[unit]
    return parts, ""


# Counter features (pipelines/features/counters.py): (English, zh-CN, unit).
_COUNTERS: dict[str, tuple[str, str, str]] = {
    "hours_since_maintenance": ("hours since maintenance", "距上次维护时间", "h"),
    "hours_since_failure": ("hours since the last failure", "距上次故障时间", "h"),
    "parts_since_maintenance": ("parts since maintenance", "维护后加工件数", ""),
}
# Window statistics of feature names (``<signal>__<stat>_<window>``).
_STATS: dict[str, tuple[str, str]] = {
    "mean": ("mean", "均值"), "std": ("spread", "波动"), "min": ("min", "最小值"), "max": ("max", "最大值"),
    "slope": ("trend", "变化趋势"), "z": ("deviation from own normal", "偏离自身基线"), "last": ("now", "当前值"),
    "norm": ("per unit of load", "按负载归一化"),
}


def _stat_text(stat: str) -> tuple[str, str]:
    name, _, window = stat.partition("_")
    en, zh = _STATS.get(name, (name, name))
    if window:
        return f"{en}, last {window} samples", f"{zh}，近 {window} 个采样"
    return en, zh


def signal_text(feature: str) -> tuple[str, str, str]:
    """(English, zh-CN, unit) of a feature name such as ``spindle_vibration_rms_mm_s__mean_60``."""
    signal, _, stat = feature.partition("__")
    if signal in _COUNTERS:
        en, zh, unit = _COUNTERS[signal]
        return (f"{en} ({stat.replace('_', ' ')})", f"{zh}（{stat}）", unit) if stat else (en, zh, unit)
    words, unit = _split_unit(signal)
    en = " ".join(_TOKENS.get(w, (w, w))[0] for w in words)
    zh = "".join(_TOKENS.get(w, (w, w))[1] for w in words)
    if stat:
        stat_en, stat_zh = _stat_text(stat)
        en, zh = f"{en} ({stat_en})", f"{zh}（{stat_zh}）"
    return en, zh, unit


def _fmt(value: float) -> str:
    return f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}"


def factor_sentence(factors: Sequence[Factor],
                    categories: Mapping[str, Sequence[str]] | None = None) -> tuple[str, str]:
    """The main factors as one English and one zh-CN sentence; ``categories`` (the bundle's
    ``FeatureSpec.categories``) names a categorical factor's level (``product_type L``)."""
    en_parts: list[str] = []
    zh_parts: list[str] = []
    for f in factors:
        column = f.feature[:-len("__cat")] if f.feature.endswith("__cat") else None
        if column is not None and categories and column in categories:
            levels = categories[column]
            known = f.value is not None and float(f.value).is_integer() and 0 <= f.value < len(levels)
            level = levels[int(f.value)] if known and f.value is not None else None
            en_parts.append(f"{column} {level}" if level is not None else f"{column}: unknown category")
            zh_parts.append(f"{column} {level}" if level is not None else f"{column}：未知类别")
            continue
        en, zh, unit = signal_text(f.feature)
        if f.value is None:
            en_parts.append(f"{en}: no value yet")
            zh_parts.append(f"{zh}：暂无数据")
            continue
        value = f"{_fmt(f.value)} {unit}".strip()
        if f.normal_low is not None and f.normal_high is not None:
            normal = f"{_fmt(f.normal_low)}–{_fmt(f.normal_high)}"
            if f.value > f.normal_high:
                en_parts.append(f"{en} {value}, above normal {normal}")
                zh_parts.append(f"{zh} {value}，高于正常范围 {normal}")
            elif f.value < f.normal_low:
                en_parts.append(f"{en} {value}, below normal {normal}")
                zh_parts.append(f"{zh} {value}，低于正常范围 {normal}")
            else:
                en_parts.append(f"{en} {value}, within normal {normal}")
                zh_parts.append(f"{zh} {value}，在正常范围 {normal} 内")
        else:
            en_parts.append(f"{en} {value}")
            zh_parts.append(f"{zh} {value}")
    if not en_parts:
        return "", ""
    return "Main factors: " + "; ".join(en_parts) + ".", "主要影响因素：" + "；".join(zh_parts) + "。"


def alert_messages(mode: str, probability: float, horizon_hours: float, rul_hours: float | None,
                   factors: Sequence[Factor]) -> tuple[str, str]:
    """English and zh-CN alert message with the mode, probability, RUL and factors."""
    en_mode, zh_mode = mode_text(mode)
    h = _fmt(horizon_hours)
    en = f"{en_mode}: failure probability within {h} h is {probability:.0%}"
    zh = f"{zh_mode}：未来 {h} 小时内故障概率 {probability:.0%}"
    if rul_hours is not None:
        en += f", remaining useful life about {_fmt(rul_hours)} h"
        zh += f"，剩余使用寿命（RUL）约 {_fmt(rul_hours)} 小时"
    f_en, f_zh = factor_sentence(factors)
    _, act_en, act_zh = recommended_action(mode)
    en = f"{en}. {f_en} Recommended action: {act_en}.".replace("  ", " ")
    zh = f"{zh}。{f_zh}建议措施：{act_zh}。"
    return en, zh
