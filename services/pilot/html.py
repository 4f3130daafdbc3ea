"""Render the pilot report (a dict from ``run_pilot``) as one self-contained HTML page."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from services.pilot.plots import improvement_chart, kpi_panels
from services.pilot.results import REPORTED


def _fmt(value: Any, digits: int = 3) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}g}" if abs(value) < 1000 else f"{value:,.0f}"
    return str(value)


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:+.1f} %"


def render_html(report: dict[str, Any]) -> str:
    """The HTML page: tables, embedded PNG plots, targets marked met / not met, assumptions."""
    env = Environment(loader=FileSystemLoader(Path(__file__).parent), autoescape=select_autoescape(["html", "j2"]))
    env.filters["fmt"] = _fmt
    env.filters["pct"] = _pct
    figures = {"kpis": kpi_panels(report), "improvements": improvement_chart(report)}
    images = {k: base64.b64encode(v).decode() for k, v in figures.items()}
    return env.get_template("report.html.j2").render(r=report, images=images, kpis=REPORTED)


def write_report(report: dict[str, Any], json_path: Path, html_path: Path, json_text: str) -> None:
    """Write the JSON (what the API serves) and the HTML beside it, creating the folder."""
    json_path.parent.mkdir(parents=True, exist_ok=True)
    html_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json_text, encoding="utf-8")
    html_path.write_text(render_html(report), encoding="utf-8")
