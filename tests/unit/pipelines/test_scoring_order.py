"""Ordering recovery: one bad sample never captures a machine's timeline (issue 16)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from contracts.messages import TelemetrySample
from contracts.plant import load_plant
from pipelines.health import AlertRules
from pipelines.scoring.buffers import MachineWindow, OrderRules, Outcome
from pipelines.scoring.engine import ScoringEngine
from pipelines.testing.samplestream import samples
from pipelines.testing.toymodel import toy_bundle
from runtime.settings import LineWatchSettings

PLANT = load_plant(LineWatchSettings().plant_file)
CNC = "line-1/cnc-01"
LAG_MS = 800  # the record time runs this far behind the sample time (a live connector)


def cnc_stream(n: int, **kw) -> list[TelemetrySample]:
    return [s for s in samples(PLANT, n, **kw) if s.machine_id == CNC]


def rec_ms(ts: datetime) -> int:
    return int(ts.timestamp() * 1000) + LAG_MS


def engine() -> ScoringEngine:
    return ScoringEngine(PLANT, {"cnc": toy_bundle("cnc"), "robot": toy_bundle("robot")},
                         AlertRules(raise_after=2, clear_after=2), score_every=5)


def feed(eng: ScoringEngine, items: list[TelemetrySample], replay: bool = False) -> list[tuple[Outcome, str]]:
    out = []
    for s in items:
        outcome, _ = eng.ingest(s, rec_ms(s.ts), replay=replay)
        out.append((outcome, eng.rejection))
    return out


def test_a_sample_far_ahead_of_the_timeline_is_rejected_and_later_ones_are_not_out_of_order() -> None:
    eng = engine()
    items = cnc_stream(40)
    assert {o for o, _ in feed(eng, items[:20])} == {Outcome.OK}
    bogus = items[19].model_copy(update={"ts": items[19].ts + timedelta(days=30), "seq": 20})
    outcome, _ = eng.ingest(bogus, rec_ms(items[19].ts) + 50)  # produced 50 ms after the previous sample
    assert outcome is Outcome.TIME_JUMP
    assert "30.0 days after the machine's newest sample" in eng.rejection
    assert "LINEWATCH_SCORING__MAX_JUMP_S" in eng.rejection
    assert {o for o, _ in feed(eng, items[20:])} == {Outcome.OK}  # the same seq 20 comes again, valid
    assert eng.windows[CNC].last_ts == items[-1].ts
    assert max(s.ts for s in eng.score_pending().scores) == max(s.ts for s in items if (s.seq + 1) % 5 == 0)


def test_a_bad_sample_that_got_in_is_dropped_after_three_agreeing_later_samples() -> None:
    eng = engine()
    items = cnc_stream(40)
    feed(eng, items[:20])
    # 30 min ahead with its record time in step (under the jump limit): it gets in
    ahead = items[19].model_copy(update={"ts": items[19].ts + timedelta(minutes=30), "seq": 5000})
    assert eng.ingest(ahead, rec_ms(ahead.ts))[0] is Outcome.OK
    got = feed(eng, items[20:])
    assert [o for o, _ in got[:3]] == [Outcome.OUT_OF_ORDER, Outcome.OUT_OF_ORDER, Outcome.REANCHORED]
    reason = got[0][1]
    assert f"is not after the machine's newest sample {ahead.ts.isoformat()} (seq 5000)" in reason
    assert "2 more in a row" in reason and "LINEWATCH_SCORING__REANCHOR_AFTER=3" in reason
    assert "1 more in a row" in got[1][1]
    assert {o for o, _ in got[3:]} == {Outcome.OK}
    win = eng.windows[CNC]
    assert win.last_ts == items[-1].ts
    kept_ns = win.ts_ns[win.count % win.capacity: win.count % win.capacity + win.capacity][-len(win):]
    assert int(ahead.ts.timestamp() * 1e9) not in set(kept_ns.tolist())  # the bad row left the window
    assert list(kept_ns) == sorted(kept_ns)
    scores = eng.score_pending().scores
    assert ahead.ts not in {s.ts for s in scores}
    assert {s.ts for s in scores} >= {s.ts for s in items[22:] if (s.seq + 1) % 5 == 0}


def test_a_clock_set_forward_for_good_is_followed_after_three_samples() -> None:
    eng = engine()
    items = cnc_stream(30)
    feed(eng, items[:10])
    shifted = [s.model_copy(update={"ts": s.ts + timedelta(days=2)}) for s in items[10:]]
    got = [eng.ingest(s, rec_ms(s.ts - timedelta(days=2)))[0] for s in shifted]  # the record time did not jump
    assert got[:3] == [Outcome.TIME_JUMP, Outcome.TIME_JUMP, Outcome.REANCHORED]
    assert set(got[3:]) == {Outcome.OK}


def test_scattered_bad_samples_never_move_the_timeline() -> None:
    eng = engine()
    items = cnc_stream(120)
    feed(eng, items[:60])
    rng = random.Random(7)
    last_ms = rec_ms(items[59].ts)
    for i in range(200):  # random seqs and times: they do not agree with each other
        base = items[rng.randrange(60)]
        bad = base.model_copy(update={"ts": base.ts + timedelta(days=rng.uniform(1, 300)),
                                      "seq": rng.randrange(10**6, 2 * 10**6)})
        assert eng.ingest(bad, last_ms + i)[0] is Outcome.TIME_JUMP
    assert {o for o, _ in feed(eng, items[60:])} == {Outcome.OK}


def test_the_rebuild_skips_the_samples_rejected_live() -> None:
    items = cnc_stream(60)
    bogus = items[29].model_copy(update={"ts": items[29].ts + timedelta(days=30), "seq": 30})
    log = items[:30] + [bogus] + items[30:]
    times = [rec_ms(s.ts) if s is not bogus else rec_ms(items[29].ts) + 10 for s in log]
    live = engine()
    for s, ms in zip(log, times, strict=True):
        live.ingest(s, ms)
    expected = [s.score_id for s in live.score_pending().scores if s.ts > items[44].ts]
    rebuilt = engine()  # restart after items[44]: replay the log up to there, then live
    cut = log.index(items[44]) + 1
    for s, ms in zip(log[:cut], times[:cut], strict=True):
        rebuilt.ingest(s, ms, replay=True)
    assert rebuilt.windows[CNC].last_ts == items[44].ts  # the 30-days-ahead sample never entered
    rebuilt.score_pending()
    for s, ms in zip(log[cut:], times[cut:], strict=True):
        assert rebuilt.ingest(s, ms)[0] is Outcome.OK
    assert [s.score_id for s in rebuilt.score_pending().scores] == expected


def test_no_record_time_means_no_jump_rule_but_recovery_still_works() -> None:
    win = MachineWindow(("a_c",), 50, OrderRules(max_jump_s=3600, reanchor_after=2))
    t0 = datetime(2026, 1, 5, 8, 0, tzinfo=cnc_stream(1)[0].ts.tzinfo)
    win.append(t0, 0, {"a_c": 1.0})
    far = t0 + timedelta(days=100)
    assert win.admit(far, 1)[0] is Outcome.OK  # record time 0: nothing to compare the jump with
    win.append(far, 1, {"a_c": 1.0})
    assert win.admit(t0 + timedelta(minutes=1), 2)[0] is Outcome.OUT_OF_ORDER
    assert win.admit(t0 + timedelta(minutes=2), 3)[0] is Outcome.REANCHORED
    assert win.last_ts == t0 and len(win) == 1


def test_a_rebuild_starting_on_a_rejected_sample_skips_it_by_the_stored_score_ceiling() -> None:
    items = cnc_stream(45)
    bogus = items[29].model_copy(update={"ts": items[29].ts + timedelta(days=30), "seq": 777})
    eng = engine()
    eng.set_ceilings({CNC: items[29].ts})  # the newest score the crashed run stored
    assert eng.ingest(bogus, rec_ms(items[29].ts), replay=True)[0] is Outcome.TIME_JUMP
    assert "the machine's newest stored score plus LINEWATCH_SCORING__MAX_JUMP_S" in eng.rejection
    assert {eng.ingest(s, rec_ms(s.ts), replay=True)[0] for s in items[30:40]} == {Outcome.REPLAYED}
    eng.clear_ceilings()
    assert {eng.ingest(s, rec_ms(s.ts))[0] for s in items[40:]} == {Outcome.OK}
