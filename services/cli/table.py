"""``linewatch table check | train | predict``: labelled tables (one row per product/part/wafer, or
per-run time series with one label per run). Entry points only: read files, call
``pipelines.training.tables`` / ``table_model``, print."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from pipelines.training.table_model import TableModel, evaluate, train_table
from pipelines.training.tables import Prepared, TableError, TableSpec, prepare, read

app = typer.Typer(no_args_is_help=True, help="Labelled tables: a label per row or per run (see docs/training.md).")
console = Console()


def _names(values: list[str]) -> tuple[str, ...]:
    return tuple(c.strip() for text in values for c in text.split(",") if c.strip())


def _spec(label: str, group: str | None, time: str | None, categorical: list[str], ignore: list[str],
          keep: list[str], positive: str | None, per_run: bool) -> TableSpec:
    return TableSpec(label=label, group=group, time=time, categorical=_names(categorical), ignore=_names(ignore),
                     keep=_names(keep), positive=positive, per_run=per_run)


def _prepare(table: Path, spec: TableSpec, runs: Path | None) -> Prepared:
    return prepare(read(table, spec.group), spec, str(table), read(runs) if runs else None, str(runs))


LABEL = typer.Option(..., help="The label column: 0/1, -1/1 (1 = failure), true/false, text with --positive, "
                               "or a number (regression).")
GROUP = typer.Option(None, help="Unit / run / product id column: its rows are held out together.")
TIME = typer.Option(None, help="Time or order column (ISO time or number): without --group, the last 25 % is held "
                               "out; with --per-run, orders each run's samples.")
CATEGORICAL = typer.Option([], "--categorical", help="Text column used as a LightGBM category (<= 50 values); "
                                                     "repeat or comma-separate.")
IGNORE = typer.Option([], "--ignore", help="Columns not used (ids, free text, columns derived from the label).")
KEEP = typer.Option([], "--keep", help="A 0/1 column that is 1 only on failures but is known before the outcome.")
POSITIVE = typer.Option(None, help="The label value that is the failure (text labels, or -1 when -1 is).")
PER_RUN = typer.Option(False, "--per-run", help="One label per run (--group): each run's series summarised.")
RUNS = typer.Option(None, help="Run table joined on --group: run-level columns (metadata, the label).")


@app.command("check")
def check_cmd(table: Path, label: str = LABEL, group: str | None = GROUP, time: str | None = TIME,
              categorical: list[str] = CATEGORICAL, ignore: list[str] = IGNORE, keep: list[str] = KEEP,
              positive: str | None = POSITIVE, per_run: bool = PER_RUN, runs: Path | None = RUNS) -> None:
    """Validate a labelled table and summarise it (exit 2 with one line naming the fix if it cannot be used)."""
    p = _prepare(table, _spec(label, group, time, categorical, ignore, keep, positive, per_run), runs)
    y = p.y
    what = f"{int(y.sum())} failures ({y.mean():.1%})" if p.task == "classify" else f"target mean {y.mean():.4g}"
    held = f"{len(set(p.groups))} groups" if p.groups is not None else "time order"
    console.print(f"[green]ok[/]: {len(y)} rows, {p.x.shape[1]} feature columns, {what}, split by {held}, "
                  f"categorical {sorted(p.categories) or 'none'}")
    empty = [c for c in p.x.columns if p.x[c].isna().all()]
    mostly = [c for c in p.x.columns if 0.5 <= p.x[c].isna().mean() < 1]
    console.print(f"columns: {len(empty)} empty (dropped at training), {len(mostly)} at least half empty (kept: "
                  "LightGBM uses missingness)")
    for n in p.notes:
        console.print(f"note: {n}")


def _num(v: float | None) -> str:
    return "–" if v is None or v != v else f"{v:.3f}"


def _show(kind: str, m: dict[str, Any]) -> None:
    held = f"{m['held_out_groups']} held-out groups" if m["split"] == "groups" else "the last 25 % in time"
    t = Table(title=f"{kind}: {m['rows']} rows, {m['folds']} fold(s), scored on {held}")
    cls = m["task"] == "classify"
    cols = ("method", "PR-AUC", "ROC-AUC", "F1", "precision", "recall", "balanced error", "best F1*") if cls else \
        ("method", "RMSE", "MAE", "rows")
    for i, c in enumerate(cols):
        t.add_column(c, no_wrap=i == 0, min_width=14 if i == 0 else None)
    for name, v in m["methods"].items():
        keys = ("pr_auc", "roc_auc", "f1", "precision", "recall", "balanced_error", "best_f1") if cls else \
            ("rmse", "mae")
        t.add_row(name, *(_num(v.get(k)) for k in keys), *(() if cls else (str(v["rows"]),)))
    console.print(t)
    if cls:
        mo = m["methods"]["model"]
        console.print(f"{mo['positives']} failures in {mo['rows']} held-out rows ({m['positive_rate']:.1%}); F1 at the "
                      "threshold chosen on validation rows (model) or 0.5 (plain); *best F1 = in hindsight on the "
                      "held-out rows, not a usable figure")
    for n in m["notes"]:
        console.print(f"note: {n}")
    for w in m["warnings"]:
        console.print(f"[yellow]warning[/]: {w}")


@app.command("train")
def train_cmd(table: Path, label: str = LABEL, group: str | None = GROUP, time: str | None = TIME,
              categorical: list[str] = CATEGORICAL, ignore: list[str] = IGNORE, keep: list[str] = KEEP,
              positive: str | None = POSITIVE, per_run: bool = PER_RUN, runs: Path | None = RUNS,
              out: Path = typer.Option(..., help="Folder for the model (model.txt, table_model.json, report.json)."),
              seed: int = typer.Option(0)) -> None:
    """Evaluate on held-out groups or time beside no-skill and plain LightGBM, then refit on every row and save."""
    spec = _spec(label, group, time, categorical, ignore, keep, positive, per_run)
    p = _prepare(table, spec, runs)
    with console.status("training"):
        model = train_table(p, spec, seed)
    _show(table.name, model.metrics)
    model.save(out)
    (out / "report.json").write_text(json.dumps(model.metrics, indent=1, default=str))
    console.print(f"saved {out} ({len(model.columns)} columns"
                  + (f", alarm threshold {model.threshold:.3f})" if model.task == "classify" else ")"))


@app.command("evaluate")
def evaluate_cmd(table: Path, label: str = LABEL, group: str | None = GROUP, time: str | None = TIME,
                 categorical: list[str] = CATEGORICAL, ignore: list[str] = IGNORE, keep: list[str] = KEEP,
                 positive: str | None = POSITIVE, per_run: bool = PER_RUN, runs: Path | None = RUNS,
                 seed: int = typer.Option(0)) -> None:
    """The held-out evaluation of train only (nothing saved)."""
    p = _prepare(table, _spec(label, group, time, categorical, ignore, keep, positive, per_run), runs)
    _show(table.name, evaluate(p, seed)[0])


@app.command("predict")
def predict_cmd(table: Path, model: Path = typer.Option(..., help="The --out folder of `linewatch table train`."),
                runs: Path | None = RUNS, output: Path | None = typer.Option(None, "-o", "--output",
                                                                             help="CSV out (default stdout)."),
                explain: bool = typer.Option(True, help="Add the main factors of each score.")) -> None:
    """Score a table with a saved table model: one row per row (or per run with --per-run models)."""
    m = TableModel.load(model)
    p = prepare(read(table, m.spec.group), m.spec, str(table), read(runs) if runs else None, str(runs),
                labelled=False)
    missing = [c for c in m.columns if c not in p.x.columns]
    if missing:
        raise TableError(f"{table}: column(s) {missing[:5]} of the model are missing; the table needs the columns "
                         "it was trained on")
    score = m.predict(p.x)
    res = pd.DataFrame({p.ids.name or "id": p.ids.to_numpy()})
    if m.task == "classify":
        res["p_failure"], res["alarm"] = np.round(score, 6), score >= m.threshold
    else:
        res["prediction"] = score
    if explain:
        res["explanation"] = m.explain(p.x)
    if output is None:
        res.to_csv(typer.get_text_stream("stdout"), index=False)
    else:
        res.to_csv(output, index=False)
        console.print(f"wrote {len(res)} rows to {output}")

