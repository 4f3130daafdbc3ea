"""The pilot's fast paths compute what the plain paths compute: a tiny pilot on the real simulator and
the real scoring core (toy models) gives the same report, alert for alert and KPI for KPI, with the
simulator's unvalidated message construction, one-thread LightGBM for small batches and the scorer's
event arrays, as with validated messages, LightGBM's default threads and counters from the event table."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from contracts.plant import load_plant
from pipelines.models import bundle as bundle_module
from pipelines.scoring.eventlog import EventLog, MachineEvents
from pipelines.testing.toymodel import toy_bundle
from runtime.settings import LineWatchSettings
from services.pilot.config import PilotConfig
from services.pilot.line import simulator_line
from services.pilot.pilot import run_pilot
from services.pilot.scoring import InProcessScorer
from simulators.physics import machine as sim_machine

PLANT = load_plant(LineWatchSettings().plant_file)
KEYS = ("arms", "modes", "improvements", "alert_quality", "alarm_system", "assumptions")


def _pilot(out: list) -> dict:
    """A 1-seed, 4.8-h pilot on the demo plant; every score and alert the scorers produced goes to ``out``."""
    bundles = {"cnc": toy_bundle("cnc"), "robot": toy_bundle("robot")}
    for b in bundles.values():
        b.thresholds = dict.fromkeys(b.modes, 0.3)

    class Recording(InProcessScorer):
        def _score(self) -> list:
            batch = self.engine.score_pending()
            out.extend([*batch.scores, *batch.alerts])
            return list(batch.alerts)

    config = PilotConfig(seeds=[3], days=0.2, training_days=1, workers=1, start=datetime(2026, 1, 5, tzinfo=UTC))
    return run_pilot(PLANT, config, simulator_line, sources=lambda p, seed: Recording(p, bundles, config.score_every),
                     thresholds={m: 0.3 for b in bundles.values() for m in b.modes})


def _events_from_table(self: EventLog, machine_id: str) -> MachineEvents | None:
    """The reference: the machine's events read back from ``EventLog.frame`` (the table training reads)."""
    frame = self.frame([machine_id]) if machine_id in self.rows else None
    if frame is None:
        return None
    ts = frame["ts"].to_numpy(dtype="datetime64[ns]")
    kind = frame["kind"].to_numpy(dtype=object)
    maint = kind == "maintenance_done"
    return MachineEvents(ts[maint], frame["component"].to_numpy(dtype=object)[maint], ts[kind == "failure"],
                         ts[kind == "part_completed"])


def test_fast_paths_give_the_same_pilot_as_the_plain_paths(monkeypatch: pytest.MonkeyPatch) -> None:
    fast_out: list = []
    fast = _pilot(fast_out)
    with monkeypatch.context() as m:
        m.setattr(sim_machine, "_built", lambda cls, **values: cls(**values))  # pydantic validates every message
        m.setattr(bundle_module, "ONE_THREAD_ROWS", 0)  # LightGBM's own thread count
        m.setattr(EventLog, "arrays", _events_from_table)
        plain_out: list = []
        plain = _pilot(plain_out)
    raised = [a for a in fast_out if getattr(a, "action", None) == "raised" and not a.mode.startswith("sensor_fault")]
    assert len(raised) >= 3, "the comparison must cover equipment alerts"
    assert fast["assumptions"]["commands_issued"]["predictive"] > 0, "and commands the line carried out"
    assert len(fast_out) > 200
    assert [a.model_dump() for a in fast_out] == [a.model_dump() for a in plain_out]  # every score and alert
    for key in KEYS:
        assert fast[key] == plain[key], key
    np.testing.assert_equal(fast["arms"]["predictive"]["plant"]["per_seed"],
                            plain["arms"]["predictive"]["plant"]["per_seed"])
