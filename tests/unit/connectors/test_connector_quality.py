"""Signal quality at the edge: a stuck value is flagged uncertain (values untouched), bad stays bad,
machines outside the plant and offline samples pass unchanged."""

from __future__ import annotations

from contracts.messages import MachineState, Quality
from contracts.plant import load_plant
from pipelines.testing.samplestream import samples
from runtime.settings import LineWatchSettings
from services.connectors.core.quality import SampleFlagger

PLANT = load_plant(LineWatchSettings().plant_file)
CNC = PLANT.machines("cnc")[0]
SIGNAL = next(s.name for s in CNC.sensors if "coolant" in s.name)


def test_a_stuck_signal_is_flagged_uncertain_from_the_tenth_minute() -> None:
    seen: list[str] = []
    flag = SampleFlagger(PLANT, on_fault=seen.append)
    out = []
    for s in samples(PLANT, 30):
        if s.machine_id != CNC.id:
            continue
        if s.seq >= 5:
            s = s.model_copy(update={"signals": {**s.signals, SIGNAL: 4.25}})
        out.append(flag(s))
    flagged = [s.seq for s in out if s.quality.get(SIGNAL) == Quality.UNCERTAIN]
    assert flagged == list(range(15, 30))
    assert all(s.signals[SIGNAL] == 4.25 for s in out[5:])  # values are not changed
    assert seen == ["stuck"] * 15 and flag.counts == {"stuck": 15}
    assert all(set(s.quality) <= {SIGNAL} for s in out)


def test_bad_stays_bad_and_unknown_or_offline_machines_pass() -> None:
    flag = SampleFlagger(PLANT)
    first = next(s for s in samples(PLANT, 1) if s.machine_id == CNC.id)
    for i in range(4):
        s = first.model_copy(update={"seq": i, "quality": {SIGNAL: Quality.BAD}, "signals": {**first.signals,
                                                                                           SIGNAL: None}})
        marked = flag(s)
    assert marked.quality == {SIGNAL: Quality.BAD}
    stranger = first.model_copy(update={"machine_id": "line-x/m-1"})
    assert flag(stranger) is stranger
    off = first.model_copy(update={"state": MachineState.OFFLINE, "signals": {}})
    assert flag(off) is off
