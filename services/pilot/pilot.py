"""Orchestrate a pilot: every seed under every arm, KPIs from the events, the report dict.

Order matters for one reason: the preventive arm's default intervals come from the mean
lives seen in the run-to-failure arm, so that arm runs first for every seed.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

from contracts.plant import Plant
from pipelines.kpis import Kpis, compute_scopes
from services.pilot.config import PilotConfig
from services.pilot.decision import ActionRule
from services.pilot.policies import FixedInterval, Policy, Predictive, RunToFailure
from services.pilot.results import arm_summary, comparisons, paired_improvements, targets_table
from services.pilot.runner import (AlertSource, ArmRun, LineFactory, cycle_by_mode, operating_hours_to_failure,
                                  run_arm)

Tick = Callable[[str, int, float], None]
SourceFactory = Callable[[Plant, int], AlertSource]


def _kpis(run: ArmRun, plant: Plant, config: PilotConfig) -> dict[str, Kpis]:
    return compute_scopes(run.events, scopes=("plant", "line"), alerts=run.alerts, start=run.start, end=run.end,
                          machines=[m.id for m in plant.machines()], prices=config.prices, options=config.kpi)


def preventive_intervals(config: PilotConfig, rtf_runs: list[ArmRun], plant: Plant) -> tuple[dict[str, float], dict]:
    """Intervals per mode: the configured ones, else ``interval_fraction`` × the mean life seen run-to-failure."""
    lives = operating_hours_to_failure(rtf_runs, plant) if rtf_runs else {}
    intervals = {mode: round(config.interval_fraction * life, 1) for mode, life in lives.items()}
    intervals.update(config.intervals_h)
    source = {mode: ("configured" if mode in config.intervals_h else
                     f"{config.interval_fraction} × mean life {lives[mode]:.0f} h (run-to-failure arm)")
              for mode in intervals}
    return intervals, {"mean_life_h": lives, "source": source}


def action_rule(config: PilotConfig, thresholds: dict[str, float]) -> ActionRule | None:
    """The predictive arm's expected-cost rule from the pilot's prices and rate card (None: act on every alert)."""
    if not config.cost_gate:
        return None
    p = config.prices
    return ActionRule(costs=dict(config.action_costs), model_thresholds=dict(thresholds),
                      labour_per_hour=p.labour_per_hour, technicians_per_job=p.technicians_per_job,
                      lost_production_per_part=p.lost_production_per_part, group_ratio=config.group_ratio)


def _policy(arm: str, plant: Plant, config: PilotConfig, intervals: dict[str, float],
            lives: dict[str, float], thresholds: dict[str, float]) -> Policy:
    if arm == "run_to_failure":
        return RunToFailure()
    if arm == "preventive":
        return FixedInterval(plant=plant, intervals_h=intervals, start=config.start)
    return Predictive(cooldown_h=config.cooldown_h, mode_cooldown_h=cooldowns(config, lives),
                      rule=action_rule(config, thresholds))


def cooldowns(config: PilotConfig, lives: dict[str, float]) -> dict[str, float]:
    """Per-mode predictive cooldown: ``cooldown_life_fraction`` × mean life, never below ``cooldown_h``."""
    return {mode: round(max(config.cooldown_h, config.cooldown_life_fraction * life), 1)
            for mode, life in sorted(lives.items())}


def _run(arm: str, seed: int, plant: Plant, config: PilotConfig, make_line: LineFactory,
         sources: SourceFactory | None, intervals: dict[str, float], lives: dict[str, float],
         thresholds: dict[str, float], tick: Tick | None) -> ArmRun:
    # shadow scoring only where nobody acts on alerts and failures run their course: the honest alert-quality arm
    wants_scoring = arm == "predictive" or (arm == "run_to_failure" and config.shadow_scoring and sources is not None)
    source = sources(plant, seed) if wants_scoring and sources is not None else None
    if arm == "predictive" and source is None:
        raise ValueError("the predictive arm needs an alert source (the scoring pipeline)")
    try:
        return run_arm(plant, seed, _policy(arm, plant, config, intervals, lives, thresholds), make_line, config.start, config.days,
                       timedelta(minutes=config.step_minutes), source,
                       (lambda f: tick(arm, seed, f)) if tick else None)
    finally:
        if source is not None:
            source.close()


def run_pilot(plant: Plant, config: PilotConfig, make_line: LineFactory, sources: SourceFactory | None = None,
              tick: Tick | None = None, predictive_label: str | None = None,
              thresholds: dict[str, float] | None = None) -> dict[str, Any]:
    """Run every arm for every seed and return the report (a JSON-ready dict).

    ``thresholds``: the champion models' alert threshold per mode, the floor of the predictive
    arm's expected-cost rule.
    """
    thresholds = thresholds or {}
    began = time.perf_counter()
    per_arm: dict[str, dict[str, dict[int, Kpis]]] = {}   # arm -> scope -> seed -> Kpis
    rtf_runs: list[ArmRun] = []
    intervals: dict[str, float] = {}
    interval_info: dict = {}
    commands: dict[str, int] = {}
    for arm in sorted(config.arms, key=("run_to_failure", "preventive", "predictive").index):
        if arm != "run_to_failure" and not interval_info:
            intervals, interval_info = preventive_intervals(config, rtf_runs, plant)
        for seed in config.seeds:
            run = _run(arm, seed, plant, config, make_line, sources, intervals,
                       interval_info.get("mean_life_h", {}), thresholds, tick)
            if arm == "run_to_failure":
                rtf_runs.append(run)
            commands[arm] = commands.get(arm, 0) + len(run.commands)
            for scope_id, k in _kpis(run, plant, config).items():
                per_arm.setdefault(arm, {}).setdefault(scope_id, {})[seed] = k
    rule = action_rule(config, thresholds)
    interval_info["predictive_rule"] = None if rule is None else rule.describe(cycle_by_mode(rtf_runs, plant))
    return _report(plant, config, per_arm, intervals, interval_info, commands,
                   predictive_label, time.perf_counter() - began)


def _report(plant: Plant, config: PilotConfig, per_arm: dict, intervals: dict, interval_info: dict,
            commands: dict, predictive_label: str | None, runtime_s: float) -> dict[str, Any]:
    scopes = sorted({scope for arm in per_arm.values() for scope in arm})
    arms = {arm: {scope: arm_summary(per_arm[arm][scope], config.confidence) for scope in scopes}
            for arm in per_arm}
    rows = [row for arm, base in comparisons(list(per_arm))
            for row in paired_improvements(arm, base, per_arm[arm]["plant"], per_arm[base]["plant"],
                                           config.confidence)]
    return {
        "schema_version": 1,
        "generated_at": datetime.now(timezone.utc).isoformat(),
        "plant": plant.id,
        "machines": [m.id for m in plant.machines()],
        "config": config.model_dump(mode="json"),
        "predictive_source": predictive_label,
        "assumptions": {
            "prices": config.prices.model_dump(mode="json"),
            "kpi_options": config.kpi.model_dump(mode="json"),
            "preventive_intervals_h": intervals, "preventive_interval_basis": interval_info,
            "horizon_days": config.days, "seeds": config.seeds, "decision_step_minutes": config.step_minutes,
            "predictive_cooldown_h": cooldowns(config, interval_info.get("mean_life_h", {})),
            "predictive_cooldown_floor_h": config.cooldown_h, "commands_issued": commands,
            "predictive_action_rule": interval_info.get("predictive_rule"),
            "predictive_action_costs": {m: c.model_dump() for m, c in sorted(config.action_costs.items())},
            "predictive_group_ratio": config.group_ratio, "predictive_cost_gate": config.cost_gate,
            "confidence": config.confidence,
        },
        "arms": arms,
        "improvements": rows,
        "targets": targets_table(rows),
        "runtime_s": round(runtime_s, 1),
    }
