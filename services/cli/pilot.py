"""``linewatch pilot``: run the simulated line under each maintenance policy and write the report."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import typer
import yaml
from pydantic import ValidationError
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from contracts.errors import ConfigError
from contracts.plant import load_plant
from contracts.validation import validation_lines
from pipelines.kpis import KpiPrices
from services.pilot.settings import PilotSettings

console = Console()


def _overrides(seeds: str | None, days: float | None, arms: str | None, interval: list[str] | None,
               workers: int | None, prices: Path | None, predictive: str | None,
               rate_card: Path | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    try:
        if seeds:
            out["seeds"] = [int(s) for s in seeds.split(",") if s.strip()]
        if interval:
            out["intervals_h"] = {k.strip(): float(v) for k, v in (item.split("=", 1) for item in interval)}
    except ValueError as exc:
        raise ConfigError(f"--seeds takes integers like 1,2,3 and --interval MODE=HOURS: {exc}") from exc
    if days is not None:
        out["days"] = days
    if arms:
        out["arms"] = [a.strip().replace("-", "_") for a in arms.split(",") if a.strip()]
    if workers is not None:
        out["workers"] = workers
    if predictive:
        out["predictive"] = predictive
    if prices is not None:
        data = _yaml_mapping(prices, "prices")
        try:
            out["prices"] = KpiPrices.model_validate(data)
        except ValidationError as exc:
            raise ConfigError(_first_error(prices, exc)) from exc
        out["price_sources"] = {k: f"the plant's prices file {prices}" for k in sorted(data)}
    if rate_card is not None:
        out.update(read_rate_card(rate_card))
    return out


def _yaml_mapping(path: Path, what: str) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the {what} file: {exc.strerror or exc}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {str(exc).splitlines()[0]}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the {what} file must be a mapping of names to values")
    return data


def _first_error(path: Path, exc: ValidationError, prefix: str = "") -> str:
    """The first validation error as the project writes it everywhere (``contracts.validation``), after the file."""
    return validation_lines(exc.errors(include_url=False), limit=1, where=lambda _: f"{path}: {prefix}")[0]


def read_rate_card(path: Path) -> dict[str, Any]:
    """The plant's rate card (YAML: MODE → any of planned_hours, planned_parts_cost, repair_hours,
    repair_parts_cost) over the built-in card, and the source of every price it sets."""
    from services.pilot.decision import DEFAULT_ACTION_COSTS, ModeCosts

    data = _yaml_mapping(path, "rate card")
    known = list(DEFAULT_ACTION_COSTS)  # one entry per catalogue mode
    costs = dict(DEFAULT_ACTION_COSTS)
    sources: dict[str, str] = {}
    for mode, fields in data.items():
        if mode not in known:
            raise ConfigError(f"{path}: {mode!r} is not a failure mode; use one of {', '.join(known)}")
        if not isinstance(fields, dict):
            raise ConfigError(f"{path}: {mode}: give a mapping of prices, e.g. repair_hours: 6")
        try:
            costs[mode] = ModeCosts.model_validate({**costs[mode].model_dump(), **fields})
        except ValidationError as exc:
            raise ConfigError(_first_error(path, exc, f"{mode}.")) from exc
        sources.update({f"{mode}.{name}": f"the plant's rate card {path}" for name in sorted(fields)})
    return {"action_costs": costs, "rate_card_sources": sources}


def _summary(report: dict[str, Any]) -> None:
    table = Table(title="Plant KPIs per policy (mean [95 % CI] over seeds)")
    table.add_column("KPI")
    for arm in report["arms"]:
        table.add_column(arm)
    for name in ("defect_rate", "energy_per_good_part_kwh", "oee", "unplanned_downtime_hours", "failures",
                 "operating_cost"):
        cells = []
        for arm in report["arms"]:
            k = report["arms"][arm]["plant"]["kpis"][name]
            ci = "" if k["low"] is None else f" [{k['low']:.4g}, {k['high']:.4g}]"  # one seed: no interval
            cells.append("–" if k["mean"] is None else f"{k['mean']:.4g}{ci}")
        table.add_row(name, *cells)
    console.print(table)
    for t in report["targets"]:
        status = ("no data" if t["mean"] is None else "met with confidence" if t["met_with_confidence"]
                  else "met on average" if t["met"] else "NOT met")
        mean = "–" if t["mean"] is None else f"{t['mean'] * 100:+.1f} %"
        console.print(f"  {t['name']} vs {t['baseline']}: {mean} (goal ≥ {t['target'] * 100:.0f} %) → {status}")


def command(
    plant: Path | None = typer.Option(None, help="Plant file (default: settings plant_file, the demo plant)."),
    seeds: str | None = typer.Option(None, help="Comma-separated seeds, e.g. 1,2,3,4,5."),
    days: float | None = typer.Option(None, help="Simulated days per run."),
    arms: str | None = typer.Option(None, help="run_to_failure,preventive,predictive (default all)."),
    interval: list[str] | None = typer.Option(None, help="Preventive interval MODE=HOURS (repeatable)."),
    workers: int | None = typer.Option(None, help="Processes for the arm × seed runs (default 2; 1 = serial)."),
    predictive: str | None = typer.Option(None, help="inprocess (default) or kafka."),
    prices: Path | None = typer.Option(None, help="YAML file with KpiPrices fields."),
    rate_card: Path | None = typer.Option(
        None, help="YAML rate card: MODE -> planned_hours, planned_parts_cost, repair_hours, repair_parts_cost "
                   "(any of them; prices not given: the built-in card, repair ones estimated from history)."),
    registry: Path | None = typer.Option(None, help="Model registry folder (default var/registry)."),
    out: Path | None = typer.Option(None, help="Report folder (default var/pilot)."),
    shadow: bool | None = typer.Option(None, "--shadow/--no-shadow",
                                       help="Score the run-to-failure arm too, to measure alert quality."),
    train: bool | None = typer.Option(None, "--train/--no-train", help="Train a model if the registry has none."),
    cost_gate: bool | None = typer.Option(None, "--cost-gate/--no-cost-gate",
                                          help="Predictive: act only when expected cost favours it (default on)."),
) -> None:
    """Compare run-to-failure, fixed-interval preventive and LineWatch-predictive maintenance."""
    from services.pilot.html import write_report
    from services.pilot.line import simulator_line  # the simulator only when a pilot really runs
    from services.pilot.pilot import run_pilot
    from services.pilot.sources import alert_sources, champion_models, model_thresholds, refuse_training_seeds

    settings = PilotSettings()
    overrides = _overrides(seeds, days, arms, interval, workers, prices, predictive, rate_card)
    if shadow is not None:
        overrides["shadow_scoring"] = shadow
    if train is not None:
        overrides["train_if_missing"] = train
    if cost_gate is not None:
        overrides["cost_gate"] = cost_gate
    config = settings.pilot.model_validate({**settings.pilot.model_dump(), **overrides})
    plant_obj = load_plant(plant or settings.plant_file)
    registry_dir = registry or settings.registry_dir
    from services.pilot.pilot import cached_training_basis, median_lives

    basis = cached_training_basis(plant_obj, simulator_line, config, Path(registry_dir), say=console.print)
    if config.train_if_missing and ("predictive" in config.arms or config.shadow_scoring):
        from services.pilot.model import ensure_champions

        ensure_champions(plant_obj, registry_dir, simulator_line, config.start, config.training_days,
                         say=console.print, mode_horizons_h=config.alert_window_h(median_lives(basis)))
    models = champion_models(plant_obj, registry_dir)
    refuse_training_seeds(config.seeds, models)
    sources, label = alert_sources(plant_obj, config, registry_dir, settings.kafka)
    folder = out or settings.pilot_report_dir
    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                  TimeElapsedColumn(), TimeRemainingColumn(), console=console) as progress:
        task = progress.add_task("pilot", total=len(config.arms) * len(config.seeds))
        order = {}

        def tick(arm: str, seed: int, fraction: float) -> None:
            base = order.setdefault((arm, seed), len(order))
            progress.update(task, completed=base + fraction, description=f"{arm:<15} seed {seed}")

        report = run_pilot(plant_obj, config, simulator_line, sources, tick, label,
                           model_thresholds(plant_obj, registry_dir) if sources else {},
                           registry_dir=registry_dir if sources and config.predictive == "inprocess" else None,
                           basis=basis, models=models, say=console.print)
    text = json.dumps(report, indent=1, ensure_ascii=False, allow_nan=False)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    write_report(report, folder / "latest.json", folder / "latest.html", text)
    (folder / f"pilot-{stamp}.json").write_text(text, encoding="utf-8")
    _summary(report)
    console.print(f"report: {folder / 'latest.html'}  json: {folder / 'latest.json'}  ({report['runtime_s']} s)")
