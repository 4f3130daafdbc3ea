"""``linewatch train | evaluate | models list|show|promote|drift | retrain | import-check``.

Entry points only: build settings, load tables, call ``pipelines.training`` and the registry.
"""

from __future__ import annotations

import contextlib
import json
import time
from pathlib import Path
from typing import Any, Optional

import pandas as pd
import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from contracts.errors import ConfigError
from pipelines.models import Registry, band
from pipelines.training import distributed
from pipelines.training.config import TrainConfig
from pipelines.training.evaluate import evaluate_bundle
from pipelines.training.importer import History, load_history
from pipelines.training.report import render
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


def _history(data: Optional[Path], telemetry: Optional[Path], events: Optional[Path],
             labels: Optional[Path], cycle_seconds: float) -> History:
    if telemetry is None:
        if data is None:
            raise ConfigError("give --data DIR (with telemetry[.parquet|.csv|/] and events…) or --telemetry FILE")
        telemetry = _find(data, "telemetry")
        events = events or _find(data, "events")
        if telemetry is None:
            raise ConfigError(f"{data}: no telemetry.parquet, telemetry.csv or telemetry/ folder")
    with console.status(f"loading {telemetry}"):
        return load_history(telemetry, events, labels, cycle_seconds)


def _config(quick: bool, thorough: bool, **overrides: Any) -> TrainConfig:
    kw = {k: v for k, v in overrides.items() if v is not None}
    return TrainConfig.quick(**kw) if quick else TrainConfig.thorough(**kw) if thorough else TrainConfig(**kw)


def _kinds(h: History, kind: Optional[str]) -> dict[str, pd.DataFrame]:
    if kind:
        return {kind: h.telemetry}
    kinds = h.telemetry["machine_id"].map(kind_of)
    return {k: h.telemetry[kinds == k] for k in sorted(kinds.unique())}


def _cell(model: dict, rule: dict, key: str) -> str:
    f = lambda v: "–" if v is None or v != v else f"{v:.2f}"  # noqa: E731
    return f"{f(model.get(key))} / {f(rule.get(key))}"


def show_metrics(kind: str, metrics: dict[str, Any]) -> None:
    """One table: every holdout and mode, model / rule side by side."""
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
                  frame: pd.DataFrame, bundle: Any, importance: dict, data_range: dict, out: Optional[Path]) -> Path:
    out = out or settings.data_dir / "reports" / f"{name}.html"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render(f"LineWatch evaluation: {name}", metrics, frame, importance, bundle.modes, data_range))
    out.with_suffix(".json").write_text(json.dumps(metrics | {"data_range": data_range}, indent=1, default=str))
    return out


def _train_kind(settings: LineWatchSettings, reg: Registry, kind: str, tel: pd.DataFrame, h: History,
                cfg: TrainConfig, cut: Optional[pd.Timestamp], promote: bool, report: Optional[Path]) -> str:
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


@app.command("train")
def train_cmd(data: Optional[Path] = typer.Option(None, help="History folder (simulate history / archive)."),
              telemetry: Optional[Path] = typer.Option(None, help="Telemetry table (CSV/Parquet/folder)."),
              events: Optional[Path] = typer.Option(None, help="Events table."),
              labels: Optional[Path] = typer.Option(None, help="Feedback labels: machine_id, ts, mode, outcome."),
              kind: Optional[str] = typer.Option(None, help="Machine kind for every id (imported data)."),
              quick: bool = typer.Option(False, "--quick", help="Fast profile (demo): one parameter set."),
              thorough: bool = typer.Option(False, "--thorough", help="Wider budgeted search."),
              horizon_hours: Optional[float] = typer.Option(None, help="Failure horizon H (default 24)."),
              rul_cap_hours: Optional[float] = typer.Option(None, help="RUL cap (default 168)."),
              cost_missed: Optional[float] = typer.Option(None, help="Cost of a missed failure (default 20)."),
              cost_stop: Optional[float] = typer.Option(None, help="Cost of a needless stop (default 1)."),
              cut: Optional[str] = typer.Option(None, help="Holdout time cut (ISO); default: last 25 %."),
              cycle_seconds: float = typer.Option(3600.0, help="Seconds per cycle for cycle-counted data."),
              promote: bool = typer.Option(True, help="Apply the promotion rule after registering."),
              report: Optional[Path] = typer.Option(None, help="HTML report path (one kind only)."),
              dask: Optional[str] = typer.Option(None, "--dask", help=(
                  "Train on a Dask cluster: scheduler address (tcp://host:8786) or 'local' (2 worker "
                  "processes here); features per machine as tasks, boosters with lightgbm.dask."))) -> None:
    """Train models per machine kind, evaluate on held-out time and machines, register them."""
    settings = LineWatchSettings()
    h = _history(data, telemetry, events, labels, cycle_seconds)
    cfg = _config(quick, thorough, horizon_hours=horizon_hours, rul_cap_hours=rul_cap_hours,
                  cost_missed_failure=cost_missed, cost_needless_stop=cost_stop)
    reg = Registry(settings.registry_dir)
    began = time.monotonic()
    with contextlib.ExitStack() as stack:
        if dask:
            stack.enter_context(distributed.on_dask(stack.enter_context(distributed.connect(dask))))
        _train_all(settings, reg, h, kind, cfg, pd.Timestamp(cut) if cut else None, promote, report)
    console.print(f"done in {time.monotonic() - began:.1f} s")


def _train_all(settings: LineWatchSettings, reg: Registry, h: History, kind: Optional[str], cfg: TrainConfig,
               cut: Optional[pd.Timestamp], promote: bool, report: Optional[Path]) -> list[str]:
    """Train every kind; a kind without enough failures is reported and skipped, not fatal."""
    versions, skipped = [], []
    for k, tel in _kinds(h, kind).items():
        try:
            versions.append(_train_kind(settings, reg, k, tel, h, cfg, cut, promote, report))
        except TrainingError as exc:
            skipped.append(k)
            console.print(f"[yellow]skipped {k}[/]: {exc}")
    if not versions:
        raise TrainingError(f"no model trained (skipped: {skipped})")
    return versions


@app.command("evaluate")
def evaluate_cmd(data: Optional[Path] = typer.Option(None), telemetry: Optional[Path] = typer.Option(None),
                 events: Optional[Path] = typer.Option(None), labels: Optional[Path] = typer.Option(None),
                 version: Optional[str] = typer.Option(None, help="Model version (default: the kind's champion)."),
                 kind: Optional[str] = typer.Option(None, help="Kind whose champion to evaluate."),
                 cut: Optional[str] = typer.Option(None), cycle_seconds: float = typer.Option(3600.0),
                 report: Optional[Path] = typer.Option(None, help="HTML report path.")) -> None:
    """Evaluate a registered model on a history (same split rules) and write the HTML report."""
    settings = LineWatchSettings()
    reg = Registry(settings.registry_dir)
    h = _history(data, telemetry, events, labels, cycle_seconds)
    version = version or (reg.champion_version(kind) if kind else None)
    if version is None:
        raise ConfigError("give --version V, or --kind K with a champion in the registry")
    bundle = reg.load(version)
    tel = _kinds(h, kind).get(bundle.kind, h.telemetry) if not kind else h.telemetry
    metrics, frame = evaluate_bundle(bundle, tel, h.events, TrainConfig(), h.feedback, pd.Timestamp(cut) if cut else None)
    reg.record_evaluation(version, metrics)
    show_metrics(bundle.kind, metrics)
    imp = {n: float(g) for n, g in zip(bundle.features, sum(bundle.classifiers[m].feature_importance("gain")
                                                               for m in bundle.modes))}
    rng = {"start": str(tel["ts"].min()), "end": str(tel["ts"].max()), "cut": "see holdout id",
           "held_out_machines": "same rule as training"}
    path = _write_report(settings, f"eval-{version}", None, metrics, frame, bundle,
                         dict(sorted(imp.items(), key=lambda kv: -kv[1])), rng, report)
    console.print(f"report {path}")


@models.command("list")
def models_list(kind: Optional[str] = typer.Option(None)) -> None:
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
def models_drift(version: str, data: Optional[Path] = typer.Option(None), telemetry: Optional[Path] = typer.Option(None),
                 events: Optional[Path] = typer.Option(None), top: int = typer.Option(15)) -> None:
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
def import_check(telemetry: Path, events: Optional[Path] = typer.Option(None), labels: Optional[Path] = typer.Option(None),
                 cycle_seconds: float = typer.Option(3600.0)) -> None:
    """Validate a history against docs/data-format.md and summarise it (exit 2 with the reason if bad)."""
    h = load_history(telemetry, events, labels, cycle_seconds)
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
def retrain_cmd(archive: Optional[Path] = typer.Option(None, help="Archive root (default <data_dir>/archive)."),
                labels: Optional[Path] = typer.Option(None, help="Feedback labels table."),
                kind: Optional[str] = typer.Option(None), quick: bool = typer.Option(False, "--quick"),
                every: Optional[str] = typer.Option(None, help="Repeat on a schedule, e.g. 24h (Ctrl-C stops)."),
                days: Optional[float] = typer.Option(None, help="Use only the last N days of the archive.")) -> None:
    """Train a challenger on the Kafka archive (+ labels), compare with the champion, apply the rule."""
    from pipelines.history.archive import compact, read_archive
    from pipelines.training.importer import validate_events, validate_feedback, validate_telemetry, read_table

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
