"""Self-contained HTML evaluation report: PR curves (model vs rule), lead-time histogram,
predicted vs true RUL, feature importance, and the metric tables."""

from __future__ import annotations

import base64
import html
import io
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.metrics import precision_recall_curve


def _png(fig: Any) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    return f'<img alt="plot" src="data:image/png;base64,{base64.b64encode(buf.getvalue()).decode()}">'


def _pr_curves(frame: pd.DataFrame, modes: list[str], holdout: str) -> str:
    fig, axes = plt.subplots(1, len(modes), figsize=(4.2 * len(modes), 3.4), squeeze=False)
    sub = frame[frame["holdout"] == holdout]
    for ax, m in zip(axes[0], modes, strict=False):
        y = sub[f"y_{m}"].to_numpy(dtype=float)
        ok = np.isfinite(y)
        if ok.sum() and 0 < y[ok].sum() < ok.sum():
            for col, label in ((f"p_{m}", "LightGBM"), ("rule_score", "rule baseline")):
                p, r, _ = precision_recall_curve(y[ok], sub[col].to_numpy()[ok])
                ax.plot(r, p, label=label)
            ax.axhline(y[ok].mean(), ls=":", c="grey", label="prevalence")
        ax.set(title=f"{m} ({holdout})", xlabel="recall", ylabel="precision", xlim=(0, 1), ylim=(0, 1.02))
        ax.legend(fontsize=8)
    return _png(fig)


def _lead_hist(metrics: dict[str, Any], modes: list[str]) -> str:
    fig, ax = plt.subplots(figsize=(6, 3.2))
    for m in modes:
        leads = metrics["future"]["modes"].get(m, {}).get("lead_hours", []) + \
            metrics["machines"]["modes"].get(m, {}).get("lead_hours", [])
        if leads:
            ax.hist(leads, bins=12, alpha=0.55, label=m)
    ax.set(title="warning lead time before failures (both holdouts)", xlabel="hours before failure", ylabel="failures")
    ax.legend(fontsize=8)
    return _png(fig)


def _rul(frame: pd.DataFrame) -> str:
    fig, ax = plt.subplots(figsize=(4.5, 4))
    ok = frame["rul_true"].notna() & frame["rul_hours"].notna()
    for h, c in (("future", "tab:blue"), ("machines", "tab:orange")):
        s = frame[ok & (frame["holdout"] == h)]
        ax.scatter(s["rul_true"], s["rul_hours"], s=4, alpha=0.3, c=c, label=h)
    top = float(max(frame.loc[ok, "rul_true"].max(), 1)) if ok.any() else 1.0
    ax.plot([0, top], [0, top], c="k", lw=1)
    ax.set(title="predicted vs true RUL", xlabel="true RUL (h, capped)", ylabel="predicted RUL (h)")
    ax.legend(fontsize=8)
    return _png(fig)


def _importance(importance: dict[str, float], top: int = 15) -> str:
    items = list(importance.items())[:top][::-1]
    fig, ax = plt.subplots(figsize=(6.5, 0.28 * len(items) + 1))
    ax.barh([k for k, _ in items], [v for _, v in items])
    ax.set(title="feature importance (total gain, all modes)", xlabel="gain")
    return _png(fig)


def _table(metrics: dict[str, Any], modes: list[str]) -> str:
    cols = ("pr_auc", "f1", "false_alarms_per_machine_week", "median_lead_hours", "event_recall")
    head = "".join(f"<th>{c}</th>" for c in ("holdout", "mode", "model", *cols))
    body = []
    for h in ("future", "machines"):
        for m in modes:
            for who, src in (("LightGBM", metrics[h]["modes"]), ("rule", metrics[h]["baseline"])):
                v = src.get(m)
                if v:
                    cells = "".join(f"<td>{v[c]:.3f}</td>" if isinstance(v[c], float) else f"<td>{v[c]}</td>"
                                    for c in cols)
                    body.append(f"<tr><td>{h}</td><td>{m}</td><td>{who}</td>{cells}</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def render(title: str, metrics: dict[str, Any], frame: pd.DataFrame, importance: dict[str, float],
           modes: list[str], data_range: dict[str, Any]) -> str:
    """The report as one HTML string (images inlined)."""
    rul = {h: metrics[h].get("rul", {}) for h in ("future", "machines")}
    parts = [f"<h1>{html.escape(title)}</h1>",
             f"<p>holdout <code>{metrics['holdout_id']}</code>, horizon {metrics['horizon_hours']} h, "
             f"score (mean PR-AUC, future) {metrics['score']:.3f}. Time cut {data_range.get('cut')}; "
             f"held-out machines {html.escape(str(data_range.get('held_out_machines')))}.</p>",
             "<h2>Failure within horizon: model vs rule baseline</h2>", _table(metrics, modes),
             _pr_curves(frame, modes, "future")]
    if (frame["holdout"] == "machines").any():
        parts.append(_pr_curves(frame, modes, "machines"))
    parts += ["<h2>Lead time</h2>", _lead_hist(metrics, modes),
              "<h2>Remaining useful life</h2>", f"<pre>{html.escape(str(rul))}</pre>", _rul(frame),
              "<h2>What the models use</h2>", _importance(importance)]
    style = ("body{font-family:sans-serif;background:#eceff1;margin:2em}table{border-collapse:collapse}"
             "td,th{border:1px solid #999;padding:3px 6px;font-size:13px}img{margin:6px;background:#fff}")
    return f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>" \
           f"<style>{style}</style></head><body>{''.join(parts)}</body></html>"


def _fleet_rul(frame: pd.DataFrame, scale: float, unit: str) -> str:
    fig, ax = plt.subplots(figsize=(4.5, 4))
    ok = frame["rul_true"].notna() & frame["rul_hours"].notna()
    ax.scatter(frame.loc[ok, "rul_true"] * scale, frame.loc[ok, "rul_hours"] * scale, s=3, alpha=0.2, label="model")
    if "rul_plain" in frame:
        ax.scatter(frame.loc[ok, "rul_true"] * scale, frame.loc[ok, "rul_plain"] * scale, s=3, alpha=0.2,
                   label="plain LightGBM")
    top = float(max(frame.loc[ok, "rul_true"].max() * scale, 1)) if ok.any() else 1.0
    ax.plot([0, top], [0, top], c="k", lw=1)
    ax.set(title="held-out units: predicted vs true RUL", xlabel=f"true RUL ({unit}, capped)",
           ylabel=f"predicted RUL ({unit})")
    ax.legend(fontsize=8)
    return _png(fig)


def render_fleet(title: str, metrics: dict[str, Any], frame: pd.DataFrame, importance: dict[str, float],
                 data_range: dict[str, Any]) -> str:
    """Report of a fleet (split by unit): RUL per unit at cut points and per-row classification, with baselines."""
    unit = metrics.get("rul_unit", "hours")
    rows = []
    for name, v in metrics.get("rul", {}).items():
        if isinstance(v, dict):
            rows.append(f"<tr><td>{html.escape(name)}</td><td>{v.get('rmse', float('nan')):.2f}</td>"
                        f"<td>{v.get('phm08_sum', float('nan')):.1f}</td>"
                        f"<td>{v.get('phm08_mean', float('nan')):.2f}</td>"
                        f"<td>{v.get('n', 0)}</td></tr>")
    modes = []
    for m, v in metrics.get("modes", {}).items():
        for who, r in v.items():
            modes.append(f"<tr><td>{html.escape(m)}</td><td>{html.escape(who)}</td>"
                         + "".join(f"<td>{r.get(k, float('nan')):.3f}</td>" for k in
                                   ("pr_auc", "f1", "precision", "recall", "best_f1"))
                         + f"<td>{r['positives']}</td></tr>")
    scale = 1.0 if unit == "hours" else 1.0 / max(1e-12, float(data_range.get("cycle_hours", 1.0)))
    warn = "".join(f"<p style='color:#b00'>warning: {html.escape(w)}</p>" for w in metrics.get("warnings", []))
    parts = [f"<h1>{html.escape(title)}</h1>",
             f"<p>split by unit: {metrics.get('held_out_units')} held-out units in {metrics.get('folds')} fold(s); "
             f"holdout <code>{metrics['holdout_id']}</code>; score ({html.escape(str(metrics.get('score_name')))}) "
             f"{metrics['score']:.3f}. The registered model is refit on every unit.</p>", warn,
             f"<h2>RUL per held-out unit at its last cycle ({unit})</h2>",
             "<table><tr><th>model</th><th>RMSE</th><th>PHM08 sum</th><th>PHM08 mean</th><th>n</th></tr>",
             "".join(rows), "</table>", _fleet_rul(frame, scale, unit) if len(frame) else "",
             "<h2>Failure within horizon, every held-out row</h2>",
             "<table><tr><th>mode</th><th>model</th><th>PR-AUC</th><th>F1</th><th>precision</th><th>recall</th>"
             "<th>best F1</th><th>positives</th></tr>", "".join(modes), "</table>",
             "<h2>What the models use</h2>", _importance(importance)]
    style = ("body{font-family:sans-serif;background:#eceff1;margin:2em}table{border-collapse:collapse}"
             "td,th{border:1px solid #999;padding:3px 6px;font-size:13px}img{margin:6px;background:#fff}")
    return f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>" \
           f"<style>{style}</style></head><body>{''.join(parts)}</body></html>"
