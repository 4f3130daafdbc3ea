"""Orchestrate a pilot: every seed under every arm, KPIs from the events, the report dict.

Before any arm runs, the *training basis* is built from run-to-failure history on the
training seed (the same history the model learns from; never a pilot seed): component
lives per mode, each kind's running share and ideal cycle time. The preventive arm's
intervals are optimised on it (``services.pilot.baseline``), so no pilot seed ever informs
a baseline, a threshold or an interval. The arm × seed runs are then independent and run in
``config.workers`` processes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from contracts import FailureOccurred, MaintenanceDone
from contracts.plant import MODE_COMPONENT, Plant
from pipelines.kpis import Kpis, compute_scopes
from services.pilot import alertq
from services.pilot.baseline import (
    age_replacement,
    observed_lives,
    running_cost_curves,
    running_cost_rate,
    running_share,
)
from services.pilot.config import PilotConfig
from services.pilot.decision import ActionRule
from services.pilot.model import TRAINING_SEED
from services.pilot.policies import FixedInterval, Policy, Predictive, RunToFailure
from services.pilot.results import arm_summary, comparisons, mode_summary, paired_improvements, targets_table
from services.pilot.runner import AlertSource, ArmRun, LineFactory, cycle_by_mode, run_arm
from services.pilot.stats import interval

Tick = Callable[[str, int, float], None]
#: Bumped when the training basis gains content (2: running-cost curves; 3: repair hours and parts
#: cost of every corrective repair), so a cached basis is rebuilt.
BASIS_VERSION = 3
SourceFactory = Callable[[Plant, int], AlertSource]


@dataclass
class RunResult:
    """What one arm × seed run contributes to the report (small: crosses process boundaries)."""

    arm: str
    seed: int
    kpis: dict[str, Kpis]
    commands: int
    modes: dict[str, dict[str, float]]
    quality: dict[str, dict] | None = None
    alarms: dict[str, Any] | None = None
    preventive_actions: dict[str, int] = field(default_factory=dict)


# --- the training basis ---------------------------------------------------------------------
def training_basis(plant: Plant, make_line: LineFactory, config: PilotConfig,
                   say: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Lives, running share and cycle times from run-to-failure history on the training seed."""
    start = config.start - timedelta(days=config.training_days)
    end = config.start
    if say:
        say(f"training basis: {config.training_days:g} days of run-to-failure history, seed {TRAINING_SEED}")
    line = make_line(plant, TRAINING_SEED, start)
    ages = line.component_ages() if hasattr(line, "component_ages") else {}
    events: list[object] = []
    now = start
    while now < end:
        now = min(end, now + timedelta(hours=12))
        events += line.step_until(now)[1]
    share = running_share(events, plant, start, end)
    lives = observed_lives(events, ages, plant, start, end, share)
    run = ArmRun(policy="run_to_failure", seed=TRAINING_SEED, start=start, end=end, events=events)
    repairs: dict[str, dict[str, list[float]]] = {}
    for e in events:
        if isinstance(e, MaintenanceDone) and not e.planned:
            for mode, component in MODE_COMPONENT.items():
                if component == e.component:
                    seen = repairs.setdefault(mode, {"hours": [], "parts_cost": []})
                    seen["hours"].append(e.duration_s / 3600.0)
                    seen["parts_cost"].append(e.parts_cost)
    return {"seed": TRAINING_SEED, "start": start.isoformat(), "end": end.isoformat(),
            "lives": lives, "running_share": share, "cycle_by_mode": cycle_by_mode([run], plant),
            "repairs_observed": {m: v for m, v in sorted(repairs.items())},
            "running_cost_curves": running_cost_curves(events, ages, plant, start, end, share)}


def basis_to_json(basis: dict[str, Any]) -> dict[str, Any]:
    """The training basis as JSON (lives as lists)."""
    lives = {m: {"entry": v.entry.tolist(), "exit": v.exit.tolist(), "failed": v.failed.tolist()}
             for m, v in basis["lives"].items()}
    return {**basis, "lives": lives}


def basis_from_json(data: dict[str, Any]) -> dict[str, Any]:
    """Inverse of :func:`basis_to_json`."""
    import numpy as np

    from services.pilot.baseline import Lives

    lives = {m: Lives(np.array(v["entry"], dtype=float), np.array(v["exit"], dtype=float),
                      np.array(v["failed"], dtype=bool)) for m, v in data["lives"].items()}
    return {**data, "lives": lives}


def cached_training_basis(plant: Plant, make_line: LineFactory, config: PilotConfig, folder: Path,
                          say: Callable[[str], None] | None = None) -> dict[str, Any]:
    """:func:`training_basis`, kept in ``folder`` keyed by plant, seed, start and length (it is deterministic)."""
    import hashlib
    import json

    key = hashlib.sha256(json.dumps([plant.model_dump(mode="json"), TRAINING_SEED, config.start.isoformat(),
                                     config.training_days, BASIS_VERSION], sort_keys=True).encode()).hexdigest()[:16]
    path = folder / f"pilot-basis-{key}.json"
    if path.exists():
        return basis_from_json(json.loads(path.read_text(encoding="utf-8")))
    basis = training_basis(plant, make_line, config, say)
    folder.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(basis_to_json(basis)), encoding="utf-8")
    return basis


REPAIR_FIELDS = {"repair_hours": "hours", "repair_parts_cost": "parts_cost"}


def with_history_rate_card(config: PilotConfig, basis: dict[str, Any]) -> PilotConfig:
    """``config`` with each mode's repair hours and parts cost estimated from the training history.

    A plant rarely has a planner's figure for what a breakdown costs, but its CMMS holds every
    repair: per mode, the mean duration and parts cost of the basis's corrective repairs
    (``MaintenanceDone``, planned=False) replace the rate card's ``repair_hours`` and
    ``repair_parts_cost``, unless the plant set that price itself (``rate_card_sources``) or the
    history holds fewer than ``min_repairs_for_estimate`` repairs of the mode. Planned-action
    prices stay the rate card's: run-to-failure history has no planned actions to measure.
    The report's price list names the source of every price.
    """
    if not config.repair_costs_from_history:
        return config
    costs = dict(config.action_costs)
    sources = dict(config.rate_card_sources)
    for mode, seen in sorted(basis.get("repairs_observed", {}).items()):
        if mode not in costs or len(seen["hours"]) < config.min_repairs_for_estimate:
            continue
        update = {}
        for price, key in REPAIR_FIELDS.items():
            name = f"{mode}.{price}"
            if name in config.rate_card_sources:
                continue
            values = seen[key]
            update[price] = round(sum(values) / len(values), 4)
            sources[name] = (f"estimated from the plant's own history: mean of the {len(values)} corrective "
                             f"repairs of {mode} in the training basis (seed {basis.get('seed')}, "
                             f"{basis.get('start')} – {basis.get('end')}), range {min(values):.4g}–{max(values):.4g}")
        costs[mode] = costs[mode].model_copy(update=update)
    return config.model_copy(update={"action_costs": costs, "rate_card_sources": sources})


def cost_rule(config: PilotConfig, thresholds: dict[str, float]) -> ActionRule:
    """The rate card, stop cost per hour, scrap and energy prices (the same prices for every arm's decisions)."""
    p = config.prices
    priced = config.price_quality_energy
    return ActionRule(costs=dict(config.action_costs), model_thresholds=dict(thresholds),
                      labour_per_hour=p.labour_per_hour, technicians_per_job=p.technicians_per_job,
                      lost_production_per_part=p.lost_production_per_part, group_ratio=config.group_ratio,
                      scrap_per_defect=p.scrap_per_defect if priced else 0.0,
                      energy_per_kwh=p.energy_per_kwh if priced else 0.0)


def running_costs(config: PilotConfig, basis: dict[str, Any]) -> dict[str, Any]:
    """Per mode: the basis's running-cost curve (empty when scrap and energy are not priced)."""
    return dict(basis.get("running_cost_curves", {})) if config.price_quality_energy else {}


def preventive_intervals(config: PilotConfig, basis: dict[str, Any], plant: Plant) -> tuple[dict[str, float], dict]:
    """Per mode: the configured interval, else the age-replacement optimum on the training basis."""
    rule = cost_rule(config, {})
    cycles = basis["cycle_by_mode"]
    intervals: dict[str, float] = {}
    detail: dict[str, dict] = {}
    run_h = config.days * 24.0
    for mode in sorted({m for machine in plant.machines() for m in machine.failure_modes}):
        if mode in config.intervals_h:
            intervals[mode] = config.intervals_h[mode]
            detail[mode] = {"interval_h": intervals[mode], "reason": "configured"}
        elif mode in basis["lives"] and mode in config.action_costs:
            c = config.action_costs[mode]
            curve = running_costs(config, basis).get(mode)
            opt = age_replacement(basis["lives"][mode], rule.action_cost(mode, cycles.get(mode)),
                                  rule.failure_cost(mode, cycles.get(mode)), c.planned_hours, c.repair_hours,
                                  running_cost_rate(curve, rule.scrap_per_defect, rule.energy_per_kwh)
                                  if curve else None)
            detail[mode] = opt
            if opt["interval_h"] is not None:
                intervals[mode] = opt["interval_h"]
        else:
            detail[mode] = {"interval_h": None, "reason": "no failures of this mode in the training history"}
        t = intervals.get(mode)
        detail[mode]["exercised"] = t is not None and run_h >= 2 * t
        detail[mode]["exercised_note"] = (
            "run to failure: no interval" if t is None else
            f"each component's interval fires at least twice in {run_h:g} h" if run_h >= 2 * t else
            f"not exercised: interval {t:g} h needs runs of ≥ {2 * t:g} h ({run_h:g} h simulated)")
    return intervals, detail


PRICE_USE = {
    "labour_per_hour": "stop cost per hour (C_plan, C_fail), maintenance labour KPI",
    "technicians_per_job": "stop cost per hour, maintenance labour KPI",
    "lost_production_per_part": "stop cost per hour (× parts per hour), lost production KPI",
    "energy_per_kwh": "excess energy of a wearing component (R, preventive c(t)), energy cost KPI",
    "scrap_per_defect": "scrap of a wearing component (R, preventive c(t)), scrap cost KPI",
}


def price_list(config: PilotConfig, basis: dict[str, Any]) -> list[dict[str, Any]]:
    """Every price and estimate the decisions use, with its value and where it came from."""
    from pipelines.kpis import KpiPrices

    default = KpiPrices()
    rows: list[dict[str, Any]] = []
    for name, use in PRICE_USE.items():
        value = getattr(config.prices, name)
        source = config.price_sources.get(name) or (
            "KpiPrices default (pipelines/kpis/prices.py): the demo plant's figures, not measured"
            if value == getattr(default, name) else "set by the plant (LINEWATCH_PILOT__PRICES__*)")
        priced = config.price_quality_energy or name not in ("energy_per_kwh", "scrap_per_defect")
        rows.append({"price": name, "value": value, "unit": config.prices.currency if name != "technicians_per_job"
                     else "people", "used_for": use if priced else "KPIs only (price_quality_energy off)",
                     "source": source})
    observed = basis.get("repairs_observed", {})
    for mode, c in sorted(config.action_costs.items()):
        n = len(observed.get(mode, {}).get("hours", []))
        for name in ("planned_hours", "planned_parts_cost", "repair_hours", "repair_parts_cost"):
            source = config.rate_card_sources.get(f"{mode}.{name}")
            if source is None:
                source = config.rate_card_source
                if name in REPAIR_FIELDS and config.repair_costs_from_history:
                    source += (f" (the training history holds {n} repair(s) of this mode, fewer than the "
                               f"{config.min_repairs_for_estimate} an estimate needs)")
            rows.append({"price": f"{mode}.{name}", "value": getattr(c, name),
                         "unit": "h" if name.endswith("hours") else config.prices.currency,
                         "used_for": "C_plan" if name.startswith("planned") else "C_fail", "source": source})
    hist = (f"estimated from the plant's own history: the training basis (seed {basis.get('seed')}, "
            f"{basis.get('start')} – {basis.get('end')}, run to failure), PartCompleted inspection results "
            "and energy by component age")
    for mode, c in sorted(running_costs(config, basis).items()):
        rows.append({"price": f"{mode}.running_cost_curve", "value": {
            "parts_per_h": c["parts_per_h"], "excess_defect_at_oldest": c["excess_defect"][-1],
            "excess_kwh_per_part_at_oldest": c["excess_kwh_per_part"][-1], "oldest_bin_age_h": c["age_h"][-1],
            "quality_share": c["quality_share"], "energy_share": c["energy_share"]},
            "unit": "per part", "used_for": "preventive c(t); predictive share of a machine's excess", "source": hist})
    if config.price_quality_energy:
        rows.append({"price": "healthy levels (defect risk, power per program)", "value": None, "unit": "",
                     "used_for": "predictive Δq, Δe", "source": "measured live per machine: the 10th percentile of "
                     "its own last scores (defect risk) and parts (power per program)"})
    return rows


# --- one run ----------------------------------------------------------------------------------
def _mode_figures(run: ArmRun, plant: Plant, rule: ActionRule, cycles: dict[str, float]) -> dict[str, dict[str, float]]:
    """Failures, actions, downtime and maintenance cost per failure mode (the whole plant)."""
    modes = sorted({m for machine in plant.machines() for m in machine.failure_modes})
    out = {m: {"failures": 0.0, "planned_actions": 0.0, "unplanned_downtime_hours": 0.0,
               "planned_downtime_hours": 0.0, "maintenance_cost": 0.0} for m in modes}
    comp_mode = {c: m for m, c in MODE_COMPONENT.items()}
    for e in run.events:
        if isinstance(e, FailureOccurred) and e.mode in out:
            out[e.mode]["failures"] += 1
        elif isinstance(e, MaintenanceDone) and comp_mode.get(e.component) in out:
            m = comp_mode[e.component]
            hours = e.duration_s / 3600.0
            if e.planned:
                out[m]["planned_actions"] += 1
            out[m]["planned_downtime_hours" if e.planned else "unplanned_downtime_hours"] += hours
            out[m]["maintenance_cost"] += e.parts_cost + hours * rule.hour_cost(cycles.get(m))
    return out


def arm_policy(arm: str, plant: Plant, config: PilotConfig, intervals: dict[str, float], basis: dict,
               thresholds: dict[str, float], start: datetime | None = None) -> Policy:
    """The policy of one arm as the pilot runs it (``linewatch maintain`` runs the same one live)."""
    if arm == "run_to_failure":
        return RunToFailure()
    if arm == "preventive":
        return FixedInterval(plant=plant, intervals_h=intervals, start=start or config.start,
                             running_share=basis["running_share"])
    curves = running_costs(config, basis)
    return Predictive(cooldown_h=config.cooldown_h, mode_cooldown_h=cooldowns(config, basis),
                      rule=cost_rule(config, thresholds) if config.cost_gate else None,
                      quality_share={m: c["quality_share"] for m, c in curves.items()},
                      energy_share={m: c["energy_share"] for m, c in curves.items()},
                      defect_parts=config.defect_parts)


def cooldowns(config: PilotConfig, basis: dict) -> dict[str, float]:
    """Per-mode predictive cooldown: ``cooldown_life_fraction`` × median training life, never below ``cooldown_h``."""
    out = {}
    for mode, lives in sorted(basis["lives"].items()):
        life = float(lives.exit[lives.failed].mean()) if lives.failures else 0.0
        out[mode] = round(max(config.cooldown_h, config.cooldown_life_fraction * life), 1)
    return out


def median_lives(basis: dict) -> dict[str, float]:
    """Median calendar life per mode in the training history (Kaplan–Meier)."""
    from services.pilot.baseline import kaplan_meier

    out = {}
    for mode, lives in sorted(basis["lives"].items()):
        times, surv = kaplan_meier(lives)
        if len(times):
            below = surv <= 0.5
            out[mode] = round(float(times[below.argmax()] if below.any() else times[-1]), 1)
    return out


class _Shadow:
    """The run-to-failure arm's alert sources: the model (returned) and the fixed-limit rule (kept)."""

    def __init__(self, model: AlertSource, rule: alertq.LimitRule) -> None:
        self.model, self.rule, self.name = model, rule, model.name

    def feed(self, samples: list, events: list) -> list:
        self.rule.feed(samples)
        return self.model.feed(samples, events)

    def close(self) -> None:
        self.model.close()


def run_one(arm: str, seed: int, plant: Plant, config: PilotConfig, make_line: LineFactory,
            sources: SourceFactory | None, intervals: dict[str, float], basis: dict,
            thresholds: dict[str, float], tick: Callable[[float], None] | None = None) -> RunResult:
    """One arm × seed: simulate, then reduce to KPIs and per-mode figures."""
    wants = arm == "predictive" or (arm == "run_to_failure" and config.shadow_scoring and sources is not None)
    source = sources(plant, seed) if wants and sources is not None else None
    if arm == "predictive" and source is None:
        raise ValueError("the predictive arm needs an alert source (the scoring pipeline)")
    rule_source = alertq.LimitRule(plant) if arm == "run_to_failure" and source is not None else None
    feed = _Shadow(source, rule_source) if rule_source is not None and source is not None else source
    try:
        run = run_arm(plant, seed, arm_policy(arm, plant, config, intervals, basis, thresholds), make_line,
                      config.start, config.days, timedelta(minutes=config.step_minutes), feed, tick)
    finally:
        if source is not None:
            source.close()
    windows = config.alert_window_h(median_lives(basis))
    kpis = compute_scopes(run.events, scopes=("plant", "line"), alerts=run.alerts, start=run.start, end=run.end,
                          machines=[m.id for m in plant.machines()], prices=config.prices, options=config.kpi)
    rule = cost_rule(config, thresholds)
    out = RunResult(arm=arm, seed=seed, kpis=kpis, commands=len(run.commands),
                    modes=_mode_figures(run, plant, rule, basis["cycle_by_mode"]))
    if rule_source is not None:
        out.quality = alertq.quality(run.alerts, rule_source.alerts, run.events, plant, run.start, run.end,
                                     windows)
    if arm == "predictive":
        out.alarms = alertq.alarm_figures(run.alerts, run.start, run.end, operators=len(plant.lines))
    if arm == "preventive":
        for c in run.commands:
            mode = next((m for m, comp in MODE_COMPONENT.items() if comp == c.component), c.component)
            out.preventive_actions[mode] = out.preventive_actions.get(mode, 0) + 1
    return out


# --- parallel execution ------------------------------------------------------------------------
_CTX: dict[str, Any] = {}


def _init_worker(plant: Plant, config: PilotConfig, make_line: LineFactory, registry_dir: Path | None,
                 intervals: dict[str, float], basis: dict, thresholds: dict[str, float]) -> None:
    from services.pilot.sources import alert_sources

    sources = None
    if registry_dir is not None:
        sources, _ = alert_sources(plant, config, registry_dir)
    _CTX.update(plant=plant, config=config, make_line=make_line, sources=sources, intervals=intervals,
                basis=basis, thresholds=thresholds)


def _job(arm: str, seed: int) -> RunResult:
    c = _CTX
    return run_one(arm, seed, c["plant"], c["config"], c["make_line"], c["sources"], c["intervals"], c["basis"],
                   c["thresholds"])


def run_pilot(plant: Plant, config: PilotConfig, make_line: LineFactory, sources: SourceFactory | None = None,
              tick: Tick | None = None, predictive_label: str | None = None,
              thresholds: dict[str, float] | None = None, basis: dict[str, Any] | None = None,
              registry_dir: Path | None = None, models: dict[str, Any] | None = None,
              say: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Run every arm for every seed and return the report (a JSON-ready dict).

    ``thresholds``: the champion models' alert threshold per mode (floor of the predictive
    rule). ``registry_dir`` + ``config.workers > 1``: runs in worker processes, each building
    its own alert source from the registry (``make_line`` must then be a module-level function).
    """
    thresholds = thresholds or {}
    began = time.perf_counter()
    if basis is None:
        basis = training_basis(plant, make_line, config, say)
    config = with_history_rate_card(config, basis)   # every arm's decisions and the report use the same card
    intervals, interval_info = preventive_intervals(config, basis, plant)
    jobs = [(arm, seed) for arm in ("run_to_failure", "preventive", "predictive") if arm in config.arms
            for seed in config.seeds]
    results: list[RunResult] = []
    if config.workers > 1 and registry_dir is not None and len(jobs) > 1:
        with ProcessPoolExecutor(max_workers=config.workers, mp_context=get_context("spawn"),
                                 initializer=_init_worker,
                                 initargs=(plant, config, make_line, registry_dir, intervals, basis,
                                           thresholds)) as pool:
            futures = {pool.submit(_job, arm, seed): (arm, seed) for arm, seed in jobs}
            for fut in as_completed(futures):
                results.append(fut.result())
                if tick:
                    arm, seed = futures[fut]
                    tick(arm, seed, 1.0)
    else:
        for arm, seed in jobs:
            results.append(run_one(arm, seed, plant, config, make_line, sources, intervals, basis, thresholds,
                                   (lambda f, a=arm, s=seed: tick(a, s, f)) if tick else None))
    return _report(plant, config, results, intervals, interval_info, basis, thresholds, predictive_label,
                   models or {}, time.perf_counter() - began)


def _report(plant: Plant, config: PilotConfig, results: list[RunResult], intervals: dict, interval_info: dict,
            basis: dict, thresholds: dict, predictive_label: str | None, models: dict,
            runtime_s: float) -> dict[str, Any]:
    per_arm: dict[str, dict[str, dict[int, Kpis]]] = {}
    modes: dict[str, dict[int, dict]] = {}
    commands: dict[str, int] = {}
    prev_actions: dict[str, list[int]] = {}
    for r in sorted(results, key=lambda r: (r.arm, r.seed)):
        for scope_id, k in r.kpis.items():
            per_arm.setdefault(r.arm, {}).setdefault(scope_id, {})[r.seed] = k
        modes.setdefault(r.arm, {})[r.seed] = r.modes
        commands[r.arm] = commands.get(r.arm, 0) + r.commands
        for mode, n in r.preventive_actions.items():
            prev_actions.setdefault(mode, []).append(n)
    scopes = sorted({scope for arm in per_arm.values() for scope in arm})
    arms = {arm: {scope: arm_summary(per_arm[arm][scope], config.confidence) for scope in scopes}
            for arm in per_arm}
    rows = [row for arm, base in comparisons(list(per_arm)) for scope in scopes
            for row in paired_improvements(arm, base, per_arm[arm][scope], per_arm[base][scope],
                                           config.confidence, scope)]
    for mode, detail in interval_info.items():
        detail["preventive_actions_per_run"] = interval(prev_actions.get(mode, [0] * len(config.seeds)))["mean"]
    quality_runs = [r.quality for r in sorted(results, key=lambda r: r.seed) if r.quality is not None]
    alarms = [r.alarms for r in sorted(results, key=lambda r: r.seed) if r.alarms is not None]
    rule = cost_rule(config, thresholds)
    return {
        "schema_version": 2,
        "generated_at": datetime.now(UTC).isoformat(),
        "plant": plant.id,
        "machines": [m.id for m in plant.machines()],
        "lines": [ln.id for ln in plant.lines],
        "config": config.model_dump(mode="json"),
        "predictive_source": predictive_label,
        "models": models,
        "training_basis": {"seed": basis["seed"], "start": basis["start"], "end": basis["end"],
                           "running_share": basis["running_share"], "cycle_by_mode": basis["cycle_by_mode"],
                           "failures_per_mode": {m: v.failures for m, v in basis["lives"].items()}},
        "assumptions": {
            "prices": config.prices.model_dump(mode="json"),
            "kpi_options": config.kpi.model_dump(mode="json"),
            "preventive_intervals_h": intervals, "preventive_interval_basis": interval_info,
            "horizon_days": config.days, "seeds": config.seeds, "decision_step_minutes": config.step_minutes,
            "predictive_cooldown_h": cooldowns(config, basis),
            "predictive_cooldown_floor_h": config.cooldown_h, "commands_issued": commands,
            "predictive_action_rule": rule.describe(basis["cycle_by_mode"]),
            "predictive_action_costs": {m: c.model_dump() for m, c in sorted(config.action_costs.items())},
            "rate_card_source": config.rate_card_source,
            "price_list": price_list(config, basis),
            "predictive_quality_energy": config.price_quality_energy,
            "running_cost_curves": running_costs(config, basis),
            "predictive_group_ratio": config.group_ratio, "predictive_cost_gate": config.cost_gate,
            "alert_window_h": config.alert_window_h(median_lives(basis)),
            "median_life_h_training": median_lives(basis),
            "confidence": config.confidence,
        },
        "arms": arms,
        "modes": {arm: mode_summary(modes[arm], config.confidence) for arm in arms},
        "alert_quality": alertq.summarise(quality_runs, config.planning_lead_h) if quality_runs else None,
        "alarm_system": _alarm_summary(alarms, config.confidence) if alarms else None,
        "improvements": rows,
        "targets": targets_table([r for r in rows if r["scope"] == "plant"]),
        "runtime_s": round(runtime_s, 1),
    }


def _alarm_summary(alarms: list[dict], confidence: float) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in ("alerts_per_operator_hour", "flood_window_share", "chattering_alerts", "stale_alerts", "alerts"):
        out[name] = interval([a[name] for a in alarms], confidence)
    split: dict[str, list[float]] = {}
    for a in alarms:
        for k, v in a["priority_split"].items():
            split.setdefault(k, []).append(v)
    out["priority_split"] = {k: sum(v) / len(alarms) for k, v in sorted(split.items())}
    return out
