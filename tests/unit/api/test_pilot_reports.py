"""GET /pilot/reports/latest serves the pilot's own report; uploads are validated and labelled."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import auth, login_all, make_settings, open_client
from fastapi.testclient import TestClient


def report(plant: str = "demo", cost: float = 1234.5) -> dict:
    kpi = {"mean": cost, "low": cost - 10, "high": cost + 10, "n": 10}
    return {"schema_version": 2, "plant": plant, "config": {"seeds": [1]}, "assumptions": {}, "targets": [],
            "arms": {"predictive": {"plant": {"kpis": {"operating_cost": kpi}}}}}


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[tuple[TestClient, dict[str, str], Path]]:
    path = tmp_path / "pilot" / "latest.json"
    settings = make_settings(tmp_path).model_copy(update={"pilot_report_path": path})
    for client in open_client(settings):
        yield client, login_all(client), path


def test_uploads_are_validated_and_labelled_and_the_pilots_own_report_wins(setup) -> None:
    client, tokens, path = setup
    url = "/api/v1/pilot/reports"
    assert client.get(url + "/latest", headers=auth(tokens["viewer"])).status_code == 404
    bad = client.post(url, json={"hello": "world"}, headers=auth(tokens["engineer"]))
    assert bad.status_code == 422 and "arms" in bad.text
    no_plant = report() | {"arms": {"predictive": {"line-1": {"kpis": {}}}}}
    assert client.post(url, json=no_plant, headers=auth(tokens["engineer"])).status_code == 422
    ok = client.post(url + "?source=line-1%20trial", json=report(plant="real-line"), headers=auth(tokens["engineer"]))
    assert ok.status_code == 201, ok.text
    latest = client.get(url + "/latest", headers=auth(tokens["viewer"])).json()
    assert (latest["plant"], latest["source"], latest["uploaded_by"]) == ("real-line", "line-1 trial", "engineer")
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(report(cost=99.0)), encoding="utf-8")
    own = client.get(url + "/latest", headers=auth(tokens["viewer"])).json()
    assert own["arms"]["predictive"]["plant"]["kpis"]["operating_cost"]["mean"] == 99.0
    assert own["source"] == "linewatch pilot (latest.json)" and own["uploaded_by"] is None
