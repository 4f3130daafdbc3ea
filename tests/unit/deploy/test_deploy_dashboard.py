"""The Grafana dashboard and the Prometheus rules query only metrics the services define.

Defined names are collected by scanning the code with `ast` for prometheus_client
constructors (`Counter/Gauge/Histogram/Summary/Info/Enum("linewatch_...")`), so the check
follows the code as metrics are added or renamed, and fails when a query names a metric
nothing exports."""

from __future__ import annotations

import ast
import json
import re

import pytest
import yaml
from _deploytools import CHART, ROOT

PACKAGES = ("contracts", "runtime", "simulators", "pipelines", "services")
DASHBOARD = CHART / "files" / "dashboards" / "linewatch.json"
RULES = ROOT / "deploy" / "prometheus" / "rules.yml"
# Series Prometheus itself adds to every scrape; nothing else outside linewatch_* is allowed.
PROMETHEUS_OWN = {"up"}
SUFFIXES = {
    "Counter": ("_total", "_created"),
    "Gauge": ("",),
    "Histogram": ("_bucket", "_sum", "_count", "_created"),
    "Summary": ("", "_sum", "_count", "_created"),
    "Info": ("_info",),
    "Enum": ("",),
}
PROMQL_WORDS = {"sum", "by", "rate", "increase", "histogram_quantile", "max", "min", "avg", "count", "without",
                "on", "ignoring", "group_left", "group_right", "offset", "or", "and", "unless", "le", "bool"}


def exposed_names(source: str) -> set[str]:
    """Sample names Prometheus will see for every metric constructed in `source`."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        func = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", None)
        if func not in SUFFIXES:
            continue
        arg = node.args[0] if node.args else next((k.value for k in node.keywords if k.arg == "name"), None)
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str) and arg.value.startswith("linewatch_"):
            base = arg.value.removesuffix("_total") if func == "Counter" else arg.value
            names |= {base + suffix for suffix in SUFFIXES[func]}
    return names


@pytest.fixture(scope="module")
def defined() -> set[str]:
    names: set[str] = set()
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            names |= exposed_names(path.read_text(encoding="utf-8"))
    return names


def metrics_in(expr: str) -> set[str]:
    """Metric names a PromQL expression selects (label names, functions and strings removed)."""
    expr = re.sub(r'"[^"]*"', '""', expr)
    expr = re.sub(r"\{[^}]*\}", "{}", expr)
    expr = re.sub(r"\b(by|without|on|ignoring)\s*\([^)]*\)", "", expr)
    expr = re.sub(r"\[[^\]]*\]", "[]", expr)
    words = set(re.findall(r"\b[a-zA-Z_:][a-zA-Z0-9_:]*\b(?!\s*\()", expr))
    return {w for w in words if w not in PROMQL_WORDS and not re.fullmatch(r"\d+(\.\d+)?", w)}


def dashboard() -> dict:
    return json.loads(DASHBOARD.read_text(encoding="utf-8"))


def prom_exprs() -> list[tuple[str, str]]:
    found = [(p["title"], t["expr"]) for p in dashboard()["panels"] for t in p.get("targets", []) if "expr" in t]
    rules = yaml.safe_load(RULES.read_text())
    found += [(r["alert"], r["expr"]) for g in rules["groups"] for r in g["rules"]]
    return found


def test_scanner_applies_prometheus_suffixes() -> None:
    src = ('from prometheus_client import Counter, Histogram\nimport prometheus_client as pc\n'
           'a = Counter("linewatch_x_events_total", "d")\nb = pc.Histogram(name="linewatch_x_seconds", '
           'documentation="d")\nc = Counter("other_total", "d")\nd = pc.Info("linewatch_build", "d")')
    assert exposed_names(src) == {"linewatch_x_events_total", "linewatch_x_events_created",
                                  "linewatch_x_seconds_bucket", "linewatch_x_seconds_sum",
                                  "linewatch_x_seconds_count", "linewatch_x_seconds_created",
                                  "linewatch_build_info"}


def test_query_parser_finds_metric_names_only() -> None:
    expr = ('histogram_quantile(0.95, sum by (le, stage) (rate(linewatch_a_bucket{stage="x",le!="1"}[5m])))'
            ' / on (stage) max(linewatch_b) > 3')
    assert metrics_in(expr) == {"linewatch_a_bucket", "linewatch_b"}


def test_the_runtime_metrics_are_found(defined: set[str]) -> None:
    assert {"linewatch_pipeline_messages_total", "linewatch_pipeline_batch_seconds_bucket",
            "linewatch_pipeline_consumer_lag_messages"} <= defined


@pytest.mark.parametrize(("where", "expr"), prom_exprs())
def test_every_queried_metric_is_defined(defined: set[str], where: str, expr: str) -> None:
    names = metrics_in(expr)
    assert names, f"{where}: no metric found in {expr!r}"
    unknown = {n for n in names if n not in defined and n not in PROMETHEUS_OWN}
    assert not unknown, f"{where} queries metrics no service defines: {sorted(unknown)}"


def test_dashboard_is_well_formed() -> None:
    d = dashboard()
    assert d["uid"] == "linewatch" and d["schemaVersion"] >= 39
    ids = [p["id"] for p in d["panels"]]
    assert len(ids) == len(set(ids))
    variables = {v["name"]: v for v in d["templating"]["list"]}
    assert variables["datasource"]["query"] == "prometheus"
    for panel in d["panels"]:
        assert {"h", "w", "x", "y"} <= set(panel["gridPos"]) and panel["gridPos"]["x"] + panel["gridPos"]["w"] <= 24
        if panel["type"] == "row":
            continue
        assert panel["datasource"]["uid"] in {"${datasource}", "${store}"}, panel["title"]
        assert panel["targets"] and panel.get("description"), panel["title"]
        assert len({t["refId"] for t in panel["targets"]}) == len(panel["targets"])


def test_dashboard_covers_what_operators_asked_for() -> None:
    titles = " | ".join(p["title"].lower() for p in dashboard()["panels"])
    for topic in ("ingest rate", "lag", "latency", "health per line", "open alerts", "dead letters"):
        assert topic in titles, topic


def test_sql_panels_use_existing_store_tables_and_columns() -> None:
    from store.schema import metadata

    columns = {t.name: set(t.columns.keys()) for t in metadata.tables.values()}
    sql = [t["rawSql"] for p in dashboard()["panels"] for t in p.get("targets", []) if "rawSql" in t]
    assert sql, "the health-per-line and open-alerts-per-line panels read the store"
    for text in sql:
        tables = set(re.findall(r"\bFROM\s+([a-z_]+)", text)) - {"latest"}
        assert tables and tables <= set(columns), tables
        known = set().union(*(columns[t] for t in tables))
        used = set(re.findall(r"\b([a-z_]+_id|health|priority|state|ts)\b", text))
        assert used <= known, used - known


def test_compose_grafana_provisions_both_datasources() -> None:
    ds_dir = ROOT / "deploy" / "grafana" / "provisioning" / "datasources"
    types = {d["type"] for f in ds_dir.glob("*.yml") for d in yaml.safe_load(f.read_text())["datasources"]}
    d_vars = {v["query"] for v in dashboard()["templating"]["list"]}
    assert d_vars <= types
