"""docs/architecture.md's table-ownership table matches the code: every store table is listed
once, and each pipeline upsert is called by the one stage the table names as its writer."""

from __future__ import annotations

import re
from pathlib import Path

from store import schema

ROOT = Path(__file__).resolve().parents[2]
# Store method -> the only product module that may call it (the table's documented writer).
SCORER, PERSIST = "pipelines/scoring/worker.py", "pipelines/persist/worker.py"
PIPELINE_WRITERS = {"upsert_scores": SCORER, "upsert_alert_events": SCORER,
                    "upsert_events": PERSIST, "upsert_telemetry": PERSIST}


def _owner_rows() -> dict[str, str]:
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    section = text.split("## Store tables: who writes, who reads", 1)[1]
    rows: dict[str, str] = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[0].startswith("`"):
            for table in re.findall(r"`(\w+)`", cells[0]):
                assert table not in rows, f"{table} listed twice"
                rows[table] = cells[1]
    return rows


def test_every_table_has_one_row() -> None:
    assert sorted(_owner_rows()) == sorted(schema.metadata.tables)


def test_pipeline_upserts_are_called_only_by_their_stage() -> None:
    callers: dict[str, set[str]] = {name: set() for name in PIPELINE_WRITERS}
    for top in ("runtime", "simulators", "pipelines", "services"):
        for path in (ROOT / top).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            for name in PIPELINE_WRITERS:
                if re.search(rf"\.{name}\(", text):
                    callers[name].add(str(path.relative_to(ROOT)))
    assert callers == {name: {module} for name, module in PIPELINE_WRITERS.items()}
    rows = _owner_rows()
    assert rows["scores"].startswith("scorer") and rows["alerts"].startswith("scorer")
    assert rows["machine_events"].startswith("persist") and rows["telemetry_minutes"].startswith("persist")
