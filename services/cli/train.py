"""``linewatch train | evaluate | models list|show|promote|drift | retrain | import-check``.

Entry points only: build settings, load tables, call ``pipelines.training`` and the registry.
"""

from __future__ import annotations

import contextlib
import json
import time
from pathlib import Path
from typing import Any

import pandas as pd
import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from contracts.errors import ConfigError
from pipelines.features import FeatureSpec
from pipelines.models import Registry, band
from pipelines.training import distributed
from pipelines.training.config import TrainConfig
from pipelines.training.evaluate import evaluate_bundle
from pipelines.training.importer import History, load_history
from pipelines.training.report import render, render_fleet
from pipelines.training.train import TrainingError, TrainResult, kind_of, train
from runtime.settings import LineWatchSettings

app = typer.Typer(no_args_is_help=True)
models = typer.Typer(help="Model registry: list, show, promote, drift.", no_args_is_help=True)
app.add_typer(models, name="models")
console = Console()


def _find(data: Path, stem: str) -> Path | None:
    for cand in (data / f"{stem}.parquet", data / stem, data / f"{stem}.csv"):
        if cand.exists():
            return cand
    return None


def _history(data: Path | None, telemetry: Path | None, events: Path | None,
             labels: Path | None, cycle_seconds: float, categorical: list[str] | None = None) -> History:
    if telemetry is None:
        if data is None:
            raise ConfigError("give --data DIR (with telemetry[.parquet|.csv|/] and events…) or --telemetry FILE")
        telemetry = _find(data, "telemetry")
        events = events or _find(data, "events")
        if telemetry is None:
            raise ConfigError(f"{data}: no telemetry.parquet, telemetry.csv or telemetry/ folder")
    with console.status(f"loading {telemetry}"):
        return load_history(telemetry, events, labels, cycle_seconds, categorical or ())


def _config(quick: bool, thorough: bool, **overrides: Any) -> TrainConfig:
    kw = {k: v for k, v in overrides.items() if v is not None}
    return TrainConfig.quick(**kw) if quick else TrainConfig.thorough(**kw) if thorough else TrainConfig(**kw)


def _kinds(h: History, kind: str | None) -> dict[str, pd.DataFrame]:
    if kind:
        return {kind: h.telemetry}
    kinds = h.telemetry["machine_id"].map(kind_of)
    return {k: h.telemetry[kinds == k] for k in sorted(kinds.unique())}


def _cell(model: dict, rule: dict, key: str) -> str:
    f = lambda v: "–" if v is None or v != v else f"{v:.2f}"
    return f"{f(model.get(key))} / {f(rule.get(key))}"


def show_fleet(kind: str, metrics: dict[str, Any]) -> None:
    """Fleet figures (split by unit): RUL per unit at its last cycle, per-row classification, baselines."""
    unit = metrics.get("rul_unit", "hours")
    t = Table(title=f"{kind}: {metrics['held_out_units']} held-out units, {metrics['folds']} fold(s) "
                    f"(holdout {metrics['holdout_id']})")
    for c in ("RUL at last cycle", f"RMSE ({unit})", "PHM08 sum", "PHM08 mean", "units × cuts"):
        t.add_column(c)
    for name, v in metrics.get("rul", {}).items():
        if isinstance(v, dict) and name != "all_rows_model":
            t.add_row(name, f"{v['rmse']:.2f}", f"{v['phm08_sum']:.1f}", f"{v['phm08_mean']:.2f}", str(v["n"]))
    console.print(t)
    c = Table(title=f"{kind}: failure within horizon, every held-out row (model / plain LightGBM)")
    for col in ("mode", "PR-AUC", "F1", "precision", "recall", "best F1", "positives"):
        c.add_column(col)
    for m, v in metrics.get("modes", {}).items():
        mo, pl = v["model"], v.get("plain_lightgbm", {})
        f = lambda r, k: "–" if r.get(k) is None or r.get(k) != r.get(k) else f"{r[k]:.3f}"
        c.add_row(m, *(f"{f(mo, k)} / {f(pl, k)}" for k in ("pr_auc", "f1", "precision", "recall", "best_f1")),
                  str(mo["positives"]))
    console.print(c)
    for w in metrics.get("warnings", []):
        console.print(f"[yellow]warning[/]: {w}")


def show_metrics(kind: str, metrics: dict[str, Any]) -> None:
    """One table: every holdout and mode, model / rule side by side."""
    if metrics.get("protocol") == "units":
        show_fleet(kind, metrics)
        return
    t = Table(title=f"{kind}: model / rule baseline (holdout {metrics['holdout_id']})")
    for c in ("holdout", "mode", "PR-AUC", "F1", "false alarms /machine-week", "median lead h", "failures"):
        t.add_column(c)
    for h in ("future", "machines"):
        for m, v in metrics[h]["modes"].items():
            r = metrics[h]["baseline"][m]
            t.add_row(h, m, _cell(v, r, "pr_auc"), _cell(v, r, "f1"), _cell(v, r, "false_alarms_per_machine_week"),
                      _cell(v, r, "median_lead_hours"), f"{v['detected']}/{v['failures']}")
        if metrics[h].get("rul"):
            rul = metrics[h]["rul"]
            t.add_row(h, "RUL", f"RMSE {rul.get('rmse_hours', float('nan')):.2f} h",
                      f"PHM08 {rul.get('phm08_mean', float('nan')):.2f}", "", "", "")
    console.print(t)


def _write_report(settings: LineWatchSettings, name: str, result: TrainResult | None, metrics: dict,
                  frame: pd.DataFrame, bundle: Any, importance: dict, data_range: dict, out: Path | None) -> Path:
    out = out or settings.data_dir / "reports" / f"{name}.html"
    out.parent.mkdir(parents=True, exist_ok=True)
    if metrics.get("protocol") == "units":
        cycle_hours = bundle.feature_spec.cycle_seconds / 3600.0 if metrics.get("rul_unit") == "cycles" else 1.0
        out.write_text(render_fleet(f"LineWatch evaluation: {name}", metrics, frame, importance,
                                    data_range | {"cycle_hours": cycle_hours}))
    else:
        out.write_text(render(f"LineWatch evaluation: {name}", metrics, frame, importance, bundle.modes, data_range))
    out.with_suffix(".json").write_text(json.dumps(metrics | {"data_range": data_range}, indent=1, default=str))
    return out


def _train_kind(settings: LineWatchSettings, reg: Registry, kind: str, tel: pd.DataFrame, h: History,
                cfg: TrainConfig, cut: pd.Timestamp | None, promote: bool, report: Path | None) -> str:
    with Progress(TextColumn(f"[bold]{kind}[/] {{task.description}}"), BarColumn(), TimeElapsedColumn(),
                  console=console) as bar:
        task = bar.add_task("start", total=1.0)
        result = train(tel, h.events, cfg, kind, h.feedback, cut,
                       lambda what, frac: bar.update(task, description=what, completed=frac))
    version = reg.register(result.bundle, result.metrics, result.data_range)
    show_metrics(kind, result.metrics)
    path = _write_report(settings, version, result, result.metrics, result.holdout, result.bundle,
                         result.importance, result.data_range, report)
    console.print(f"registered [bold]{version}[/]; report {path}")
    if promote:
        if result.metrics.get("protocol") != "units":
            _compare_with_champion(reg, version, kind, tel, h, cfg, pd.Timestamp(result.data_range["cut"]))
        d = reg.promote(version)
        console.print(f"promotion: {'[green]promoted' if d.promoted else '[yellow]kept champion'}[/] ({d.reason})")
    return version


def _compare_with_champion(reg: Registry, version: str, kind: str, tel: pd.DataFrame, h: History,
                           cfg: TrainConfig, cut: pd.Timestamp) -> None:
    """Evaluate the champion on the challenger's holdout so the rule compares like with like."""
    champ = reg.champion(kind)
    if champ is None or champ.version == version:
        return
    metrics, _ = evaluate_bundle(champ, tel, h.events, cfg, h.feedback, cut)
    reg.record_evaluation(champ.version, metrics)


def _floats(text: str | None, flag: str) -> tuple[int, ...] | None:
    if text is None:
        return None
    try:
        values = tuple(int(v) for v in text.split(",") if v.strip())
    except ValueError as exc:
        raise ConfigError(f"{flag} {text!r}: give whole numbers of samples separated by commas, "
                          "e.g. 5,10,20,30") from exc
    if not values or min(values) < 2:
        raise ConfigError(f"{flag} {text!r}: each window needs at least 2 samples, e.g. 5,10,20,30")
    return values


def parse_cut(cut: str | None, h: History, cycle_seconds: float) -> pd.Timestamp | None:
    """``--cut`` in the data's own units: a cycle number for cycle data, else an ISO time."""
    if cut is None:
        return None
    from pipelines.features.timeaxis import EPOCH

    if "cycle" in h.telemetry:
        try:
            value = float(cut)
        except ValueError as exc:
            raise ConfigError(f"--cut {cut!r}: this history counts cycles; give a cycle number, "
                              "e.g. --cut 150") from exc
        return EPOCH + pd.Timedelta(seconds=value * cycle_seconds)
    try:
        ts = pd.Timestamp(cut)
    except ValueError as exc:
        raise ConfigError(f"--cut {cut!r}: give an ISO time, e.g. --cut 2026-01-20T00:00:00Z") from exc
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def _in_hours(value: float | None, h: History, cycle_seconds: float) -> float | None:
    """A length in the data's own units (cycles or hours) -> hours."""
    if value is None:
        return None
    return value * cycle_seconds / 3600.0 if "cycle" in h.telemetry else value


def _columns(text: str | None, h: History, flag: str) -> tuple[str, ...]:
    if not text:
        return ()
    cols = tuple(c.strip() for c in text.split(",") if c.strip())
    missing = [c for c in cols if c not in h.telemetry.columns]
    if missing:
        raise ConfigError(f"{flag} {text!r}: no column(s) {missing} in the telemetry; columns are "
                          f"{[c for c in h.telemetry.columns if c not in ('machine_id', 'ts')][:15]}")
    return cols


@app.command("train")
def train_cmd(data: Path | None = typer.Option(None, help="History folder (simulate history / archive)."),
              telemetry: Path | None = typer.Option(None, help="Telemetry table (CSV/Parquet/folder)."),
              events: Path | None = typer.Option(None, help="Events table."),
              labels: Path | None = typer.Option(None, help="Feedback labels: machine_id, ts, mode, outcome."),
              kind: str | None = typer.Option(None, help="Machine kind for every id (imported data)."),
              quick: bool = typer.Option(False, "--quick", help="Fast profile (demo): one parameter set."),
              thorough: bool = typer.Option(False, "--thorough", help="Wider budgeted search."),
              horizon: float | None = typer.Option(None, help="Failure horizon H in the data's units "
                                                      "(cycles for cycle data, else hours; default 24)."),
              rul_cap: float | None = typer.Option(None, help="RUL cap in the data's units (default 168)."),
              horizon_hours: float | None = typer.Option(None, help="Failure horizon in hours (time data)."),
              rul_cap_hours: float | None = typer.Option(None, help="RUL cap in hours (time data)."),
              cost_missed: float | None = typer.Option(None, help="Cost of a missed failure (default 20)."),
              cost_stop: float | None = typer.Option(None, help="Cost of a needless stop (default 1)."),
              cut: str | None = typer.Option(None, help="Holdout cut in the data's units: ISO time, or a cycle "
                                                "number for cycle data (default: last 25 % of time)."),
              split: str = typer.Option("auto", help="auto | time | units: hold out the future + machines, or "
                                                     "whole units (fleets; auto = units for cycle data)."),
              task: str = typer.Option("auto", help="auto | classify | rul: what model selection optimises."),
              conditions: str | None = typer.Option(None, help="Settings columns to cluster into operating "
                                                               "conditions, comma-separated (signals normalised "
                                                               "per condition)."),
              condition_column: str | None = typer.Option(None, help="A column naming each row's operating "
                                                             "condition / program (instead of --conditions)."),
              categorical: list[str] = typer.Option([], "--categorical", help=(
                  "A text (or code) column used as a LightGBM categorical feature, its levels learned here and "
                  "stored in the model; repeat for several (at most 50 levels each).")),
              windows: str | None = typer.Option(None, help="Window lengths in samples, e.g. 5,10,20,30."),
              baseline_rows: int | None = typer.Option(None, min=2, help="Rows of the machine's own normal."),
              stride: int | None = typer.Option(None, min=1, help="A feature row every N samples (default: every "
                                                   "row for cycle data up to 200,000 rows, else 10)."),
              cycle_seconds: float = typer.Option(3600.0, min=1e-6, help="Seconds per cycle for cycle-counted data."),
              promote: bool = typer.Option(True, help="Apply the promotion rule after registering."),
              report: Path | None = typer.Option(None, help="HTML report path (one kind only)."),
              dask: str | None = typer.Option(None, "--dask", help=(
                  "Train on a Dask cluster: scheduler address (tcp://host:8786) or 'local' (2 worker "
                  "processes here); features per machine as tasks, boosters with lightgbm.dask."))) -> None:
    """Train models per machine kind, evaluate on held-out data (time + machines, or units), register them."""
    settings = LineWatchSettings()
    if split not in ("auto", "time", "units"):
        raise ConfigError(f"--split {split!r}: use auto, time or units")
    if task not in ("auto", "classify", "rul"):
        raise ConfigError(f"--task {task!r}: use auto, classify or rul")
    if conditions and condition_column:
        raise ConfigError("give --conditions (settings to cluster) or --condition-column, not both")
    win = _floats(windows, "--windows")
    cats = [c.strip() for text in categorical for c in text.split(",") if c.strip()]
    h = _history(data, telemetry, events, labels, cycle_seconds, cats)
    spec_kw: dict[str, Any] = {"cycle_seconds": cycle_seconds}
    if baseline_rows:
        spec_kw["baseline_rows"] = baseline_rows
    if win:
        spec_kw["windows"] = win
    over: dict[str, Any] = {}
    if win:
        over["window_candidates"] = [win]
    cfg = _config(quick, thorough, horizon_hours=_in_hours(horizon, h, cycle_seconds) or horizon_hours,
                  rul_cap_hours=_in_hours(rul_cap, h, cycle_seconds) or rul_cap_hours,
                  cost_missed_failure=cost_missed, cost_needless_stop=cost_stop, protocol=split, task=task,
                  condition_columns=_columns(conditions or condition_column, h,
                                             "--conditions" if conditions else "--condition-column") or None,
                  condition_categorical=bool(condition_column) or None, stride=stride,
                  categorical_columns=tuple(cats), spec=FeatureSpec(**spec_kw), **over)
    reg = Registry(settings.registry_dir)
    began = time.monotonic()
    with contextlib.ExitStack() as stack:
        if dask:
            stack.enter_context(distributed.on_dask(stack.enter_context(distributed.connect(dask))))
        _train_all(settings, reg, h, kind, cfg, parse_cut(cut, h, cycle_seconds), promote, report)
    console.print(f"done in {time.monotonic() - began:.1f} s")


def _train_all(settings: LineWatchSettings, reg: Registry, h: History, kind: str | None, cfg: TrainConfig,
               cut: pd.Timestamp | None, promote: bool, report: Path | None) -> list[str]:
    """Train every kind; a kind without enough failures is reported and skipped, not fatal."""
    versions, skipped = [], []
    for k, tel in _kinds(h, kind).items():
        try:
            versions.append(_train_kind(settings, reg, k, tel, h, cfg, cut, promote, report))
        except TrainingError as exc:
            skipped.append(f"{k}: {exc}")
            console.print(f"[yellow]skipped {k}[/]: {exc}")
    if not versions:
        raise TrainingError(f"no model trained ({'; '.join(skipped)})")
    return versions


@app.command("evaluate")
def evaluate_cmd(data: Path | None = typer.Option(None), telemetry: Path | None = typer.Option(None),
                 events: Path | None = typer.Option(None), labels: Path | None = typer.Option(None),
                 version: str | None = typer.Option(None, help="Model version (default: the kind's champion)."),
                 kind: str | None = typer.Option(None, help="Kind whose champion to evaluate."),
                 cut: str | None = typer.Option(None), cycle_seconds: float = typer.Option(3600.0),
                 report: Path | None = typer.Option(None, help="HTML report path.")) -> None:
    """Evaluate a registered model on a history (same split rules) and write the HTML report."""
    settings = LineWatchSettings()
    reg = Registry(settings.registry_dir)
    version = version or (reg.champion_version(kind) if kind else None)
    if version is None:
        raise ConfigError("give --version V, or --kind K with a champion in the registry")
    bundle = reg.load(version)
    h = _history(data, telemetry, events, labels, cycle_seconds, list(bundle.feature_spec.categories))
    tel = _kinds(h, kind).get(bundle.kind, h.telemetry) if not kind else h.telemetry
    metrics, frame = evaluate_bundle(bundle, tel, h.events, TrainConfig(), h.feedback, parse_cut(cut, h, cycle_seconds))
    reg.record_evaluation(version, metrics)
    show_metrics(bundle.kind, metrics)
    imp = {n: float(g) for n, g in zip(bundle.features, sum(bundle.classifiers[m].feature_importance("gain")
                                                               for m in bundle.modes), strict=True)}
    rng = {"start": str(tel["ts"].min()), "end": str(tel["ts"].max()), "cut": "see holdout id",
           "held_out_machines": "same rule as training"}
    path = _write_report(settings, f"eval-{version}", None, metrics, frame, bundle,
                         dict(sorted(imp.items(), key=lambda kv: -kv[1])), rng, report)
    console.print(f"report {path}")


@models.command("list")
def models_list(kind: str | None = typer.Option(None)) -> None:
    """Every registered version with its status, data range and holdout score."""
    reg = Registry(LineWatchSettings().registry_dir)
    t = Table(title=f"models in {reg.path}")
    for c in ("version", "kind", "status", "modes", "data", "score", "hash"):
        t.add_column(c)
    for m in reg.list(kind):
        rng = m.get("data_range", {})
        t.add_row(m["version"], m["kind"], m["status"], ",".join(m["modes"]),
                  f"{str(rng.get('start', ''))[:10]}…{str(rng.get('end', ''))[:10]}",
                  f"{m['metrics'].get('score', float('nan')):.3f}", m["hash"][:12])
    console.print(t)


@models.command("show")
def models_show(version: str) -> None:
    """Metadata of one version: data range, features, parameters, metrics, hash."""
    meta = Registry(LineWatchSettings().registry_dir).show(version)
    meta["features"] = f"{len(meta['features'])} features, e.g. {meta['features'][:5]}"
    console.print_json(json.dumps(meta, default=str))


@models.command("promote")
def models_promote(version: str, force: bool = typer.Option(False, "--force", help="Override the rule (logged)."),
                   min_gain: float = typer.Option(0.0, help="Required score gain over the champion.")) -> None:
    """Make VERSION the champion if it beats the current one on a shared holdout."""
    d = Registry(LineWatchSettings().registry_dir).promote(version, force=force, min_gain=min_gain)
    console.print(f"{'[green]promoted' if d.promoted else '[yellow]not promoted'}[/] {version}: {d.reason}")
    if not d.promoted:
        raise typer.Exit(1)


@models.command("drift")
def models_drift(version: str, data: Path | None = typer.Option(None), telemetry: Path | None = typer.Option(None),
                 events: Path | None = typer.Option(None), top: int = typer.Option(15)) -> None:
    """PSI per feature of a recent history against VERSION's training data."""
    from pipelines.features import compute

    reg = Registry(LineWatchSettings().registry_dir)
    bundle = reg.load(version)
    h = _history(data, telemetry, events, None, bundle.feature_spec.cycle_seconds)
    tel = h.telemetry[h.telemetry["machine_id"].map(kind_of) == bundle.kind]
    values = bundle.drift(compute(tel if len(tel) else h.telemetry, bundle.feature_spec, h.events))
    t = Table(title=f"drift of {version} (PSI: <0.1 stable, <0.25 watch, else shifted)")
    for c in ("feature", "PSI", "band"):
        t.add_column(c)
    for f, v in list(values.items())[:top]:
        t.add_row(f, f"{v:.3f}", band(v))
    console.print(t)


@app.command("import-check")
def import_check(telemetry: Path, events: Path | None = typer.Option(None), labels: Path | None = typer.Option(None),
                 cycle_seconds: float = typer.Option(3600.0),
                 categorical: list[str] = typer.Option([], "--categorical", help="A categorical (text) column, "
                                                                                 "as for train.")) -> None:
    """Validate a history against docs/data-format.md and summarise it (exit 2 with the reason if bad)."""
    h = load_history(telemetry, events, labels, cycle_seconds,
                     [c.strip() for text in categorical for c in text.split(",") if c.strip()])
    tel = h.telemetry
    sigs = [c for c in tel.columns if c not in ("machine_id", "ts", "cycle", "state", "seq")]
    console.print(f"[green]ok[/]: {len(tel)} telemetry rows, {tel['machine_id'].nunique()} machines, "
                  f"{tel['ts'].min()} … {tel['ts'].max()}, signals {sigs}")
    if len(h.events):
        console.print(f"events by kind: {h.events['kind'].value_counts().to_dict()}")
        fails = h.events[h.events["kind"] == "failure"]
        console.print(f"failures by mode: {fails['mode'].value_counts().to_dict()}")
    if h.feedback is not None:
        console.print(f"feedback labels: {h.feedback['outcome'].value_counts().to_dict()}")


def _seconds(every: str) -> float:
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    try:
        return float(every[:-1]) * units[every[-1]]
    except (KeyError, ValueError) as exc:
        raise ConfigError(f"--every {every!r}: use a number and a unit s/m/h/d, e.g. 24h") from exc


@app.command("retrain")
def retrain_cmd(archive: Path | None = typer.Option(None, help="Archive root (default <data_dir>/archive)."),
                labels: Path | None = typer.Option(None, help="Feedback labels table."),
                kind: str | None = typer.Option(None), quick: bool = typer.Option(False, "--quick"),
                every: str | None = typer.Option(None, help="Repeat on a schedule, e.g. 24h (Ctrl-C stops)."),
                days: float | None = typer.Option(None, help="Use only the last N days of the archive.")) -> None:
    """Train a challenger on the Kafka archive (+ labels), compare with the champion, apply the rule."""
    from pipelines.history.archive import compact, read_archive
    from pipelines.training.importer import read_table, validate_events, validate_feedback, validate_telemetry

    settings = LineWatchSettings()
    root = archive or settings.data_dir / "archive"
    reg = Registry(settings.registry_dir)
    pause = _seconds(every) if every else None
    while True:
        compact(root)
        tel, ev = read_archive(root, "telemetry"), read_archive(root, "events")
        if tel.empty:
            raise ConfigError(f"{root}: the archive has no telemetry yet (run `linewatch archive`)")
        if days:
            tel = tel[tel["ts"] >= tel["ts"].max() - pd.Timedelta(days=days)]
        tel = validate_telemetry(tel)
        machines = set(tel["machine_id"])
        ev = validate_events(ev[ev["machine_id"].isin(machines)], machines) if len(ev) else None
        fb = validate_feedback(read_table(labels), machines) if labels else None
        h = History(tel, ev if ev is not None else pd.DataFrame(columns=["event_id", "machine_id", "ts", "kind"]), fb)
        _train_all(settings, reg, h, kind, _config(quick, False), None, True, None)
        if pause is None:
            return
        console.print(f"next retrain in {every}")
        time.sleep(pause)
