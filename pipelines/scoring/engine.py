"""The scoring core: per-machine windows in, health scores and alert events out.

No Kafka and no database here: the worker (``worker.py``) feeds decoded samples and
events in, then publishes and stores what ``score_pending`` returns. Samples are scored
every ``score_every`` samples per machine, chosen by sequence number
(``(seq + 1) % score_every == 0``), so the set of scored window ends is the same
whether or not the worker restarted in between: a replay yields the same score ids.
Samples go into per-machine numpy ring buffers (O(1) per sample); all due windows of one
machine kind go through ``pipelines.features.window_features`` (the same definition
training uses) and the champion model in one call each; ``pred_contrib`` explanations are
computed only for windows that can move an alert (``_to_explain``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol

import numpy as np
import pandas as pd

from contracts.failure_modes import PLANNING_LEAD_H
from contracts.messages import SUPPRESSING_MACHINE_STATES, AlertEvent, Factor, HealthScore, TelemetrySample
from contracts.plant import MODE_COMPONENT, Plant
from pipelines.features import FeatureSpec, feature_names, window_features
from pipelines.features.counters import counter_names, counters_from
from pipelines.health import AlertRules, AlertTracker, OpenAlert, component_health, health
from pipelines.health.rules import ModeState
from pipelines.scoring.buffers import MachineWindow, OrderRules, Outcome
from pipelines.scoring.eventlog import EventLog
from pipelines.scoring.sanity import Limits, clean, limits_for
from pipelines.scoring.sensorfaults import SensorFaults

_NO_STATE = ModeState()


class Bundle(Protocol):
    """What the scorer needs of a model bundle (``pipelines.models.ModelBundle``)."""

    version: str
    feature_spec: FeatureSpec
    modes: list[str]
    horizon_hours: float
    thresholds: dict[str, float]

    def predict(self, features: pd.DataFrame) -> pd.DataFrame: ...

    def explain(self, features: pd.DataFrame, top_k: int = 3, mode: str | None = None,
                probabilities: np.ndarray | None = None) -> list[list[Factor]]: ...


def scored_modes(bundle: Bundle) -> list[str]:
    """The bundle's modes that enter health and alerts (``ModelBundle.scored_modes``: all but those
    without validated skill); a bundle that does not say uses every mode."""
    return list(getattr(bundle, "scored_modes", bundle.modes))


@dataclass(frozen=True)
class Due:
    """A window end to score."""

    machine_id: str
    ts: datetime
    record_ms: int  # Kafka record time of the sample: the start of the end-to-end latency
    replay: bool  # rebuilding state after a restart: advance the alert rules, emit nothing
    row: int = -1  # row number in the machine's window buffer
    state: str = "running"
    seq: int = 0


@dataclass
class ScoreBatch:
    """What one call of ``score_pending`` produced (replayed windows are not in here)."""

    scores: list[HealthScore] = field(default_factory=list)
    alerts: list[AlertEvent] = field(default_factory=list)
    record_ms: list[int] = field(default_factory=list)
    unscored: int = 0  # due windows of a kind without a champion model


AlertStateSource = Callable[[str, datetime], dict[str, OpenAlert]]


def _num(value: Any) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _rounded(factor: Factor) -> Factor:
    """Six significant digits: rolling sums differ in the last bit depending on where the
    window started, and an operator never needs more."""
    def r(v: float | None) -> float | None:
        return None if v is None else float(f"{v:.6g}")

    return factor.model_copy(update={"value": r(factor.value), "normal_low": r(factor.normal_low),
                                     "normal_high": r(factor.normal_high)})


class ScoringEngine:
    """Windows, counters, models and alert rules of the machines one worker owns."""

    def __init__(self, plant: Plant, bundles: dict[str, Bundle], rules: AlertRules | None = None, *,
                 score_every: int | None = None, extra_rows: int = 2000, top_k: int = 3,
                 explain_every: int = 10, order: OrderRules | None = None) -> None:
        self.plant = plant
        self.order = order or OrderRules()
        self.rejection = ""  # reason of the last ``ingest`` that returned a rejecting outcome
        self.kinds = {m.id: m.kind for m in plant.machines()}
        self._signals = {m.id: tuple(sorted(s.name for s in m.sensors)) for m in plant.machines()}
        self._limits: dict[str, Limits] = {m.id: limits_for(m) for m in plant.machines()}
        self.bundles = dict(bundles)
        self.tracker = AlertTracker(rules or AlertRules())
        self.events = EventLog()
        self.sensor_faults = SensorFaults(plant)
        self.windows: dict[str, MachineWindow] = {}
        self._score_every = score_every
        self._extra_rows = extra_rows
        self._top_k = top_k
        self._explain_every = explain_every
        self._due: list[Due] = []
        self._restore: set[str] = set()
        self._resolved: list[AlertEvent] = []  # alerts closed by a restoration or failure, not yet emitted

    def score_every(self, kind: str) -> int:
        """Scoring step for a kind: the setting, else the champion's feature step."""
        if self._score_every:
            return self._score_every
        bundle = self.bundles.get(kind)
        return bundle.feature_spec.step if bundle else 10

    def _history(self, kind: str) -> int:
        bundle = self.bundles.get(kind)
        return bundle.feature_spec.max_window if bundle else FeatureSpec().max_window

    def history_rows(self) -> int:
        """Rows per machine the models need: how far a rebuild must replay."""
        return max(self._history(k) for k in set(self.kinds.values()))

    def _running_only(self, kind: str) -> bool:
        bundle = self.bundles.get(kind)
        return bundle.feature_spec.running_only if bundle else True

    def set_bundle(self, kind: str, bundle: Bundle) -> None:
        """Swap in a newly promoted champion; windows and alert state are kept."""
        self.bundles[kind] = bundle

    def window(self, machine_id: str) -> MachineWindow:
        win = self.windows.get(machine_id)
        if win is None:
            cap = self._history(self.kinds[machine_id]) + self._extra_rows
            win = self.windows[machine_id] = MachineWindow(self._signals[machine_id], cap, self.order)
        return win

    def ingest(self, sample: TelemetrySample, record_ms: int, replay: bool = False) -> tuple[Outcome, list[str]]:
        """Add one sample; returns its outcome and the signals marked as sensor faults.

        ``OUT_OF_ORDER`` and ``TIME_JUMP`` reject the sample (``buffers.REJECTING``; the reason is in
        ``self.rejection``); ``REANCHORED`` keeps it after dropping the rows its agreeing
        run replaces (``buffers.py``)."""
        machine_id, ts, seq = sample.machine_id, sample.ts, sample.seq
        kind = self.kinds.get(machine_id)
        if kind is None:
            return Outcome.UNKNOWN_MACHINE, []
        win = self.windows.get(machine_id) or self.window(machine_id)
        outcome, self.rejection = win.admit(ts, seq, record_ms)
        if outcome is Outcome.REANCHORED:  # rows dropped by the re-anchor are no longer due
            self._due = [d for d in self._due if d.machine_id != machine_id or d.row < win.count]
        elif outcome is not Outcome.OK:
            return outcome, []
        signals, faults = clean(sample.signals, self._limits[machine_id])
        signals, quality = self.sensor_faults.observe(sample, signals, replay)  # stuck/missing/spikes excluded
        faults = sorted(set(faults).union(quality)) if faults or quality else []
        state = sample.state.value
        row = win.append(ts, seq, signals, running=state == "running" or not self._running_only(kind),
                         record_ms=record_ms)
        if (seq + 1) % self.score_every(kind) == 0:
            self._due.append(Due(machine_id, ts, record_ms, replay, row, state, seq))
        if replay:
            return Outcome.REPLAYED, faults
        if outcome is Outcome.REANCHORED:
            return outcome, faults
        return (Outcome.SENSOR_FAULT if faults else Outcome.OK), faults

    def add_event(self, event: Any) -> bool:
        """Remember a machine event for the counters (maintenance, failure, parts); a restoration or
        failure of a component ends the episode of its open alert (emitted by the next ``score_pending``)."""
        added = self.events.add(event)
        if added and event.kind in ("maintenance_done", "failure"):
            modes = [event.mode] if event.kind == "failure" else \
                [m for m, c in MODE_COMPONENT.items() if c == getattr(event, "component", None)]
            why: Literal["restored", "failed"] = "failed" if event.kind == "failure" else "restored"
            for mode in modes:
                cleared = self.tracker.resolve(event.machine_id, mode, event.ts, why)
                if cleared is not None:
                    self._resolved.append(cleared)
        return added

    def set_ceilings(self, last_scored: dict[str, datetime]) -> None:
        """Before a rebuild: samples of a machine without an anchor yet are skipped when they are
        more than ``OrderRules.max_jump_s`` after its newest stored score (``buffers.py``)."""
        if not self.order.max_jump_s:
            return
        for machine_id, ts in last_scored.items():
            if machine_id in self.kinds:
                self.window(machine_id).ceiling = ts + timedelta(seconds=self.order.max_jump_s)

    def clear_ceilings(self) -> None:
        for win in self.windows.values():
            win.ceiling = None

    def needs_restore(self, machine_ids: set[str]) -> None:
        """Mark machines whose open alerts must be reloaded before they are scored live."""
        self._restore |= machine_ids

    def forget(self, machine_ids: set[str]) -> None:
        """Drop the state of machines this worker no longer owns."""
        for m in machine_ids:
            self.windows.pop(m, None)
            self.events.forget(m)
            self.tracker.forget(m)
            self.sensor_faults.forget(m)
        self._due = [d for d in self._due if d.machine_id not in machine_ids]

    @property
    def pending(self) -> int:
        return len(self._due)

    def score_pending(self, alert_state: AlertStateSource | None = None) -> ScoreBatch:
        """Score every due window (one feature and one model call per kind)."""
        due, self._due = self._due, []
        out = ScoreBatch()
        out.alerts.extend(self._resolved)
        self._resolved = []
        by_kind: dict[str, list[Due]] = {}
        for d in due:
            by_kind.setdefault(self.kinds[d.machine_id], []).append(d)
        for kind, items in sorted(by_kind.items()):
            bundle = self.bundles.get(kind)
            if bundle is None:
                out.unscored += sum(not d.replay for d in items)
                continue
            self._score_kind(bundle, items, out, alert_state)
        out.alerts.extend(self.sensor_faults.drain())  # raised on the sample that showed the fault
        return out

    def features(self, bundle: Bundle, items: list[Due]) -> np.ndarray:
        """Feature matrix (due windows x ``feature_names``) straight from the ring buffers:
        one :func:`window_features` call for the whole batch, counters per machine."""
        spec = bundle.feature_spec
        length = spec.max_window
        sigs = list(spec.signals) or list(self.windows[items[0].machine_id].signals)
        values = np.empty((len(items), len(sigs), length))
        ts = np.empty((len(items), length), dtype=np.int64)
        for i, d in enumerate(items):
            win = self.windows[d.machine_id]
            v, t = win.block(d.row, length)
            if list(win.signals) == sigs:
                values[i] = v
            else:  # a machine without one of the model's sensors gets NaN there
                values[i] = np.nan
                for j, name in enumerate(sigs):
                    k = win.signals.index(name) if name in win.signals else -1
                    if k >= 0:
                        values[i, j] = v[k]
            ts[i] = t
        feats = window_features(values, ts, spec, sigs)
        rows_of: dict[str, list[int]] = {}
        for i, d in enumerate(items):
            rows_of.setdefault(d.machine_id, []).append(i)
        n_counters = len(counter_names(spec.components))
        cnt = np.full((len(items), n_counters), np.nan)
        for machine, idx in rows_of.items():
            ev = self.events.arrays(machine)
            if ev is not None:
                cnt[idx] = counters_from(ts[idx, -1].astype("datetime64[ns]"), ev.maintenance_ts,
                                         ev.maintenance_component, ev.failure_ts, ev.part_ts, spec.components)
        return np.hstack([feats, cnt])

    def _to_explain(self, bundle: Bundle, items: list[Due], columns: dict[str, np.ndarray]) -> list[int]:
        """Live rows to explain (``pred_contrib``, the costly part of scoring): those that
        can raise, update or clear an alert (some P(mode) at or above the clear level, an
        open alert, open alerts still to be reloaded), as the alert text needs the factors,
        plus every ``explain_every``-th window per machine (by ``seq``, so a replay explains
        the same ones) for the machine page. Other scores carry no factors."""
        every, step = self._explain_every, self.score_every(self.kinds[items[0].machine_id])
        ratio = self.tracker.rules.clear_ratio
        hot = np.zeros(len(items), dtype=bool)
        for mode in scored_modes(bundle):
            threshold = bundle.thresholds.get(mode, self.tracker.rules.default_threshold)
            hot |= np.nan_to_num(columns[f"p_{mode}"], nan=0.0) >= threshold * ratio
        states = self.tracker.states
        chosen, moving = [], set(self._restore)  # machines whose alert may be open from here on
        for i, d in enumerate(items):
            if hot[i]:
                moving.add(d.machine_id)
            elif d.machine_id not in moving and any(
                    states.get((d.machine_id, m), _NO_STATE).open is not None for m in bundle.modes):
                moving.add(d.machine_id)
            if not d.replay and (d.machine_id in moving or (every and ((d.seq + 1) // step) % every == 0)):
                chosen.append(i)
        return chosen

    def _score_kind(self, bundle: Bundle, items: list[Due], out: ScoreBatch,
                    alert_state: AlertStateSource | None) -> None:
        matrix = self.features(bundle, items)
        names = feature_names(bundle.feature_spec, list(bundle.feature_spec.signals)
                              or list(self.windows[items[0].machine_id].signals))
        fast = getattr(bundle, "predict_matrix", None)  # ModelBundle: no DataFrame round trip
        if fast is not None:
            columns = fast(matrix, names)
        else:
            preds = bundle.predict(pd.DataFrame(matrix, columns=names)).reset_index(drop=True)
            columns = {c: preds[c].to_numpy() for c in preds.columns}  # row access via numpy, not .iloc
        factors: dict[int, list[Factor]] = {}
        explain = self._to_explain(bundle, items, columns) if self._top_k > 0 else []  # top_k=0: none (pilot)
        if explain:
            feats = pd.DataFrame(matrix, columns=names)
            probs = np.column_stack([columns[f"p_{m}"] for m in bundle.modes])[explain]  # predicted above
            explained = bundle.explain(feats.iloc[explain].reset_index(drop=True), self._top_k, probabilities=probs)
            factors = {i: [_rounded(f) for f in fs] for i, fs in zip(explain, explained, strict=False)}
        states = [d.state for d in items]
        for i, d in enumerate(items):
            score = self._health_score(bundle, d, {c: v[i] for c, v in columns.items()}, factors.get(i, []))
            if not d.replay and d.machine_id in self._restore:
                self._restore.discard(d.machine_id)
                self._reload_alerts(d, score, alert_state)
            events = self.tracker.step(score, bundle.thresholds, suppressed=states[i] in SUPPRESSING_MACHINE_STATES)
            if not d.replay:
                out.scores.append(score)
                out.alerts.extend(events)
                out.record_ms.append(d.record_ms)

    def _reload_alerts(self, d: Due, score: HealthScore, alert_state: AlertStateSource | None) -> None:
        """Open alerts as they were just before this window (from the store): no re-raise."""
        if alert_state is None:
            return
        opened = alert_state(d.machine_id, d.ts)
        for mode in score.failure_probability:
            self.tracker.restore(d.machine_id, mode, opened.get(mode))

    def _health_score(self, bundle: Bundle, d: Due, row: dict[str, Any], factors: list[Factor]) -> HealthScore:
        probs = {m: min(1.0, max(0.0, _num(row.get(f"p_{m}")) or 0.0)) for m in scored_modes(bundle)}
        rul = _num(row.get("rul_hours"))
        rul = None if rul is None else max(0.0, rul)
        low, high = _num(row.get("rul_low_hours")), _num(row.get("rul_high_hours"))
        defect = _num(row.get("defect_risk"))
        rul_mode = row.get("rul_mode") if isinstance(row.get("rul_mode"), str) else None
        horizons = {m: h for m, h in getattr(bundle, "mode_horizons_h", {}).items() if m in probs}
        leads = {m: PLANNING_LEAD_H[m] for m in probs if m in PLANNING_LEAD_H}
        return HealthScore(
            score_id=f"{d.machine_id}|{d.ts.isoformat()}|{bundle.version}", machine_id=d.machine_id, ts=d.ts,
            model_version=bundle.version, health=health(probs, rul, bundle.horizon_hours, horizons, leads, rul_mode),
            component_health=component_health(probs, bundle.horizon_hours, horizons, leads, rul, rul_mode),
            horizon_hours=bundle.horizon_hours, mode_horizon_hours=horizons, mode_lead_hours=leads,
            failure_probability=probs, no_skill_modes=list(getattr(bundle, "no_skill_modes", [])),
            rul_hours=rul, rul_low_hours=None if low is None else max(0.0, low),
            rul_high_hours=None if high is None else max(0.0, high), rul_mode=rul_mode,
            defect_risk=None if defect is None else min(1.0, max(0.0, defect)),
            anomaly_score=_num(row.get("anomaly_score")), top_factors=factors)
