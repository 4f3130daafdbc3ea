"""Self-contained HTML evaluation report: PR curves (model vs rule), lead-time histogram,
predicted vs true RUL, feature importance, and the metric tables."""

from __future__ import annotations

import base64
import html
import io
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from sklearn.metrics import precision_recall_curve  # noqa: E402


def _png(fig: Any) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    return f'<img alt="plot" src="data:image/png;base64,{base64.b64encode(buf.getvalue()).decode()}">'


def _pr_curves(frame: pd.DataFrame, modes: list[str], holdout: str) -> str:
    fig, axes = plt.subplots(1, len(modes), figsize=(4.2 * len(modes), 3.4), squeeze=False)
    sub = frame[frame["holdout"] == holdout]
    for ax, m in zip(axes[0], modes):
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
