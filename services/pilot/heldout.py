"""Held-out alert quality: train on some seeds, choose thresholds on others, judge on others still.

The protocol behind ``bench/bench_alert_skill.py`` (which fails when the model loses) and the
figures in docs/pilot.md (§3.2). Per machine kind:

1. **train**: run-to-failure history of the training seed -> ``pipelines.training.train``
   (quick profile, per-mode horizons);
2. **validate**: the validation seeds are scored by the scoring core
   (``pipelines.scoring.engine`` through :class:`~services.pilot.scoring.InProcessScorer`),
   and each mode's alert threshold is the one whose alert episodes reach the fixed-limit
   rule's recall on those seeds with the best precision (``pipelines.training.episodes``);
3. **test**: the test seeds are scored the same way, alerts come from the scorer's alert
   rules at the chosen thresholds, and each mode's precision / recall / median lead is
   printed beside the no-skill periodic alerter at the same alert count and the fixed-limit
   rule (``services.pilot.alertq``: the pilot's own matching).

No seed is in two roles. Scores do not depend on the alert state, so the thresholds are
applied by replaying the alert rules over the recorded scores (exactly what the scorer does
when the threshold is in the bundle).

    .venv/bin/python -m services.pilot.heldout --kind cnc --train-days 20 --valid 20001 \\
        --test 1,2,3 --days 5 --horizon tool_wear=3.9
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from contracts import AlertEvent, TelemetrySample
from contracts.messages import HealthScore
from contracts.plant import MODE_COMPONENT, Plant, load_plant
from services.pilot import alertq
from services.pilot.line import simulator_line
from services.pilot.scoring import InProcessScorer

START = datetime(2026, 1, 5, tzinfo=UTC)


@dataclass
class Run:
    """One seed's run-to-failure history, scored."""

    seed: int
    start: datetime
    end: datetime
    samples: list[TelemetrySample]
    events: list[Any]
    scores: list[HealthScore] = field(default_factory=list)
    rule_alerts: list[AlertEvent] = field(default_factory=list)


def kind_plant(plant: Plant, kind: str, machines: int | None = None) -> Plant:
    """The plant with only the machines of ``kind`` (the first ``machines`` of each line)."""
    lines = []
    for ln in plant.lines:
        ms = [m for m in ln.machines if m.kind == kind][:machines]
        if ms:
            lines.append(ln.model_copy(update={"machines": ms}))
    return plant.model_copy(update={"lines": lines})


def simulate(plant: Plant, seed: int, days: float, start: datetime = START) -> Run:
    """Run-to-failure samples and events (nobody acts on anything)."""
    line = simulator_line(plant, seed, start)
    samples, events = [], []
    end, now = start + timedelta(days=days), start
    while now < end:
        now = min(end, now + timedelta(hours=2))
        s, e = line.step_until(now)
        samples += s
        events += e
    return Run(seed, start, end, samples, events)


def tables(run: Run) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Telemetry and events tables (docs/data-format.md) of a run."""
    tel = pd.DataFrame([{"machine_id": s.machine_id, "ts": s.ts, "state": s.state.value, **s.signals}
                        for s in run.samples])
    tel["ts"] = pd.to_datetime(tel["ts"], utc=True)
    ev = pd.DataFrame([dict(e.__dict__) for e in run.events])
    ev["ts"] = pd.to_datetime(ev["ts"], utc=True)
    return tel.sort_values(["machine_id", "ts"], kind="stable").reset_index(drop=True), ev


class _Recording(InProcessScorer):
    """The in-process scorer, keeping every health score it produced."""

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.recorded: list[HealthScore] = []

    def _score(self) -> list[AlertEvent]:
        batch = self.engine.score_pending()
        self.recorded += batch.scores
        return list(batch.alerts)


def score(plant: Plant, bundle: Any, run: Run, score_every: int = 30, step_h: float = 2.0) -> Run:
    """Score a run as the pilot's shadow arm does (fed in 2-h steps), with the fixed-limit rule beside it."""
    scorer = _Recording(plant, {bundle.kind: bundle}, score_every)
    rule = alertq.LimitRule(plant)
    samples = sorted(run.samples, key=lambda s: s.ts)
    events = sorted(run.events, key=lambda e: e.ts)
    i = j = 0
    t = run.start
    while t < run.end:
        t = t + timedelta(hours=step_h)
        i2, j2 = i, j
        while i2 < len(samples) and samples[i2].ts <= t:
            i2 += 1
        while j2 < len(events) and events[j2].ts <= t:
            j2 += 1
        scorer.feed(samples[i:i2], events[j:j2])
        rule.feed(samples[i:i2])
        i, j = i2, j2
    run.scores, run.rule_alerts = scorer.recorded, rule.alerts
    return run


def replay(run: Run, thresholds: dict[str, float], rules: Any = None) -> list[AlertEvent]:
    """The scorer's alert events at ``thresholds`` (same rules, same episode ends as the engine)."""
    from pipelines.health import AlertRules, AlertTracker

    tracker = AlertTracker(rules or AlertRules())
    items = [(s.ts, 0, s) for s in run.scores]
    items += [(e.ts, 1, e) for e in run.events if getattr(e, "kind", None) in ("failure", "maintenance_done")]
    items.sort(key=lambda x: (x[0], x[1]))  # windows up to an episode end are scored before it ends
    out: list[AlertEvent] = []
    for _, what, x in items:
        if what == 0:
            out += tracker.step(x, thresholds)
            continue
        modes = [x.mode] if x.kind == "failure" else [m for m, c in MODE_COMPONENT.items() if c == x.component]
        for mode in modes:
            cleared = tracker.resolve(x.machine_id, mode, x.ts, "failed" if x.kind == "failure" else "restored")
            if cleared is not None:
                out.append(cleared)
    return out


def _quality(plant: Plant, runs: list[Run], thresholds: dict[str, float], horizons: dict[str, float]) -> dict:
    per = [alertq.quality(replay(r, thresholds), r.rule_alerts, r.events, plant, r.start, r.end, horizons)
           for r in runs]
    return alertq.summarise(per, {})


def choose_thresholds(plant: Plant, runs: list[Run], modes: list[str], horizons: dict[str, float],
                      fallback: dict[str, float]) -> dict[str, dict[str, Any]]:
    """Per mode, on validation runs: the best-precision threshold whose recall reaches the rule's there."""
    out: dict[str, dict[str, Any]] = {}
    for mode in modes:
        probs = np.array([s.failure_probability.get(mode, 0.0) for r in runs for s in r.scores])
        if not len(probs):
            continue
        grid = np.unique(np.round(np.concatenate([np.quantile(probs, np.linspace(0.5, 0.999, 40)),
                                                  np.linspace(0.05, 0.95, 19)]), 4))
        rule = _quality(plant, runs, {mode: 1.0}, horizons)["modes"].get(mode, {}).get("rule", {})
        target = rule.get("recall") or 0.0
        best: tuple[tuple, float, dict] | None = None
        for c in grid[(grid > 0) & (grid < 1)]:
            fig = _quality(plant, runs, {**fallback, mode: float(c)}, horizons)["modes"][mode]["model"]
            if fig["precision"] is None or fig["recall"] is None:
                continue
            key = (fig["recall"] >= target, fig["precision"] if fig["recall"] >= target else fig["recall"],
                   fig["precision"])
            if best is None or key > best[0]:
                best = (key, float(c), fig)
        if best is not None:
            out[mode] = {"threshold": best[1], "valid": best[2], "rule_recall_valid": target}
    return out


def evaluate(kind: str, train_seed: int, train_days: float, valid: list[int], test: list[int], days: float,
             horizons: dict[str, float], machines: int | None = None, plant_file: str = "simulators/plants/demo.yaml",
             score_every: int = 30, say: Any = None) -> dict[str, Any]:
    """The whole protocol for one kind; returns per-mode test figures of the model, no-skill and rule."""
    from pipelines.training.config import TrainConfig
    from pipelines.training.train import train

    say = say or (lambda msg: None)
    if len({train_seed, *valid, *test}) != 1 + len(valid) + len(test):
        raise ValueError("train, validation and test seeds must all differ")
    plant = kind_plant(load_plant(plant_file), kind, machines)
    say(f"simulating {train_days:g} days of training history (seed {train_seed})")
    tel, ev = tables(simulate(plant, train_seed, train_days))
    result = train(tel, ev, TrainConfig.quick(kind=kind, mode_horizons_h=dict(horizons)), kind)
    bundle = result.bundle
    bundle.version = f"heldout-{kind}-{train_seed}"
    say(f"trained {bundle.modes}; training-slice thresholds {bundle.thresholds}")
    valid_runs = [score(plant, bundle, simulate(plant, s, days), score_every) for s in valid]
    chosen = choose_thresholds(plant, valid_runs, bundle.modes, horizons, dict(bundle.thresholds))
    thresholds = {**bundle.thresholds, **{m: c["threshold"] for m, c in chosen.items()}}
    say(f"validation-seed thresholds {thresholds}")
    test_runs = [score(plant, bundle, simulate(plant, s, days), score_every) for s in test]
    fig = _quality(plant, test_runs, thresholds, horizons)
    fig_bundle = _quality(plant, test_runs, dict(bundle.thresholds), horizons)
    return {"kind": kind, "train_seed": train_seed, "train_days": train_days, "valid_seeds": valid,
            "test_seeds": test, "days": days, "horizons_h": horizons, "thresholds": thresholds,
            "bundle_thresholds": dict(bundle.thresholds), "validation": chosen, "test": fig["modes"],
            "test_bundle_thresholds": fig_bundle["modes"],
            "failures_in_training": {m: int(((ev["kind"] == "failure") & (ev["mode"] == m)).sum())
                                     for m in bundle.modes}}


def checks(entry: dict, planning_lead_h: float | None = None) -> dict[str, bool | None]:
    """Issue #13's alert bar for one mode's test figures: precision >= no-skill + 0.2, more precise
    than the fixed-limit rule without detecting fewer failures (its recall), recall >= 0.6 and,
    given the mode's planning lead, median lead >= it. ``None``: undefined on these runs."""
    m, n, r = entry["model"], entry["no_skill"], entry["rule"]
    lead = m["median_lead_h"]
    out: dict[str, bool | None] = {
        "recall_at_least_0.6": None if m["recall"] is None else m["recall"] >= 0.6,
        "median_lead_at_least_planning_lead": None if lead is None or planning_lead_h is None
        else lead >= planning_lead_h}
    if m["precision"] is None or n["precision"] is None or r["precision"] is None:
        return {"precision_at_least_0.2_above_no_skill": None, "beats_rule_at_its_recall": None, **out}
    return {"precision_at_least_0.2_above_no_skill": m["precision"] >= n["precision"] + 0.2,
            "beats_rule_at_its_recall": m["precision"] > r["precision"]
            and (m["recall"] or 0.0) >= (r["recall"] or 0.0), **out}


def _row(name: str, f: dict) -> str:
    def r(v: Any) -> str:
        return "-" if v is None else f"{v:.3f}" if isinstance(v, float) else str(v)
    return f"  {name:<34} alerts {r(f['alerts']):>7}  precision {r(f['precision']):>6}  recall {r(f['recall']):>6}  " \
           f"median lead {r(f['median_lead_h'])} h"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m services.pilot.heldout", description=__doc__.split("\n")[0])
    ap.add_argument("--kind", default="cnc")
    ap.add_argument("--train-seed", type=int, default=10_000)
    ap.add_argument("--train-days", type=float, default=20.0)
    ap.add_argument("--valid", default="20001")
    ap.add_argument("--test", default="1,2,3")
    ap.add_argument("--days", type=float, default=5.0)
    ap.add_argument("--machines", type=int, default=None)
    ap.add_argument("--horizon", action="append", default=[], help="MODE=HOURS (repeatable)")
    ap.add_argument("--json", default=None, help="also write the figures to this file")
    ap.add_argument("--check", action="append", default=[], help="MODE: exit 1 unless the model meets checks()")
    a = ap.parse_args(argv)
    horizons = {k: float(v) for k, v in (h.split("=", 1) for h in a.horizon)}
    out = evaluate(a.kind, a.train_seed, a.train_days, [int(s) for s in a.valid.split(",")],
                   [int(s) for s in a.test.split(",")], a.days, horizons, a.machines,
                   say=lambda m: print(m, file=sys.stderr, flush=True))
    for mode, e in out["test"].items():
        print(f"{mode} (horizon {horizons.get(mode, 24.0):g} h, threshold {out['thresholds'].get(mode, 0):.3f} "
              f"chosen on seeds {a.valid}; test seeds {a.test}):")
        print(_row("LineWatch", e["model"]))
        print(_row("no-skill at the same alert count", e["no_skill"]))
        print(_row("fixed-limit rule", e["rule"]))
        b = out["test_bundle_thresholds"][mode]["model"]
        print(_row("LineWatch at the bundle threshold", b))
    if a.json:
        with open(a.json, "w", encoding="utf-8") as fh:
            json.dump(out, fh, indent=1, default=str)
    from services.pilot.config import PilotConfig

    lead = PilotConfig().planning_lead_h
    failed = [m for m in a.check if m not in out["test"] or not all(checks(out["test"][m], lead.get(m)).values())]
    for m in failed:
        print(f"check failed for {m}: {checks(out['test'][m], lead.get(m)) if m in out['test'] else 'not evaluated'}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
