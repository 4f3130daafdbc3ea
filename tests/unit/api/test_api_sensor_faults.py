"""The machine page's sensors carry the scorer's sensor faults (from active sensor_fault alerts);
a cleared fault and an equipment alert do not mark a sensor."""

from __future__ import annotations

from conftest import auth

from contracts.plant import load_plant
from pipelines.scoring.sensorfaults import SensorFaults
from pipelines.testing.samplestream import samples
from runtime.settings import LineWatchSettings
from store import Store

PLANT = load_plant(LineWatchSettings().plant_file)
CNC = PLANT.machines("cnc")[0]
SIGNAL = next(s.name for s in CNC.sensors if "coolant" in s.name)


def _alerts(frozen_to: int) -> list:
    sf, frozen = SensorFaults(PLANT), None
    for s in samples(PLANT, 40):
        if s.machine_id != CNC.id:
            continue
        if 5 <= s.seq < frozen_to:
            frozen = frozen if frozen is not None else s.signals[SIGNAL]
            s = s.model_copy(update={"signals": {**s.signals, SIGNAL: frozen}})
        sf.observe(s, s.signals)
    return sf.drain()


def test_machine_detail_names_the_faulted_sensor(client, tokens, api_settings) -> None:
    store = Store.open(api_settings.store)
    line, machine = CNC.id.split("/")
    url = f"/api/v1/lines/{line}/machines/{machine}"
    try:
        store.upsert_alert_events(_alerts(frozen_to=40))  # still stuck at the end
        body = client.get(url, headers=auth(tokens["viewer"])).json()
        faults = {s["name"]: s["fault"] for s in body["sensors"]}
        assert faults[SIGNAL] == "stuck"
        assert [n for n, f in faults.items() if f] == [SIGNAL]
        store.upsert_alert_events(_alerts(frozen_to=30)[1:])  # the same alert, cleared
        body = client.get(url, headers=auth(tokens["viewer"])).json()
        assert all(s["fault"] is None for s in body["sensors"])
    finally:
        store.close()
