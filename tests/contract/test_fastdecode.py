"""The fast telemetry decode path decides exactly like the pydantic model.

Over a valid corpus (the demo stream, every ts form, odd but valid shapes) and the
mutation corpus of ``tests/fuzz/corpus.py``: the fast path either returns ``None`` or a
sample equal to the model's; ``TELEMETRY.decode`` (fast path first) accepts and rejects
the same records as the model alone, with the same reason text.
"""

from __future__ import annotations

import json
import random
from datetime import timedelta

import pytest

from contracts import TELEMETRY, ContractError, Topic
from contracts.fastdecode import fast_telemetry
from contracts.plant import load_plant
from pipelines.testing.samplestream import samples
from runtime.settings import LineWatchSettings
from tests.fuzz.corpus import KINDS, corpus

MODEL_ONLY = Topic(TELEMETRY.name, TELEMETRY.model, TELEMETRY.key_of)  # no fast path


def outcome(topic: Topic, raw: bytes | None) -> tuple[str, object]:
    try:
        return "ok", topic.decode(raw)
    except ContractError as exc:
        return "error", str(exc)


def base_samples(n: int = 20):
    plant = load_plant(LineWatchSettings().plant_file)
    return list(samples(plant, n, seed=3))


def valid_corpus() -> list[bytes]:
    rng = random.Random(5)
    out = []
    for s in base_samples():
        doc = json.loads(TELEMETRY.encode(s))
        out.append(TELEMETRY.encode(s))
        ts = s.ts + timedelta(microseconds=rng.randrange(1_000_000))
        for form in (ts.isoformat(), ts.isoformat().replace("+00:00", "Z"),
                     ts.astimezone(ts.tzinfo).isoformat(timespec="milliseconds"),
                     (ts + timedelta(hours=8)).isoformat().replace("+00:00", "+08:00"),
                     (ts - timedelta(hours=5, minutes=30)).isoformat().replace("+00:00", "-05:30"),
                     int(ts.timestamp())):
            out.append(json.dumps({**doc, "ts": form}).encode())
        out.append(json.dumps({**doc, "signals": {k: int(v) if v is not None else None
                                                   for k, v in doc["signals"].items()}}).encode())
        out.append(json.dumps({**doc, "quality": {next(iter(doc["signals"])): "bad"}, "state": "idle",
                               "program": "O1", "tool_id": None, "part_id": "P-1", "source": "opcua"}).encode())
        out.append(json.dumps({k: v for k, v in doc.items() if k not in ("quality", "state", "source",
                                                                           "schema_version")}).encode())
        out.append(json.dumps({**doc, "seq": 2**63 - 1, "signals": {"ab_c": None, "x_y_z_mm": -0.0}}).encode())
    return out


def test_valid_corpus_takes_the_fast_path_and_equals_the_model() -> None:
    raws = valid_corpus()
    fast_hits = 0
    for raw in raws:
        expected = MODEL_ONLY.decode(raw)
        got = fast_telemetry(raw)
        if got is not None:
            fast_hits += 1
            assert got == expected, raw
            assert TELEMETRY.encode(got) == TELEMETRY.encode(expected)
        assert TELEMETRY.decode(raw) == expected
    # everything LineWatch itself writes (canonical ISO ts, JSON numbers) goes the fast way
    assert fast_hits >= len(raws) * 0.8, (fast_hits, len(raws))


def test_mutation_corpus_same_decisions_and_reasons() -> None:
    kinds = [k for k in KINDS if k not in ("huge_5mb",)]  # 5 MB is covered by the fuzz tier
    bases = base_samples(5)
    seen = set()
    for m in corpus(bases, 300, seed=11, big=2, kinds=kinds):
        seen.add(m.kind)
        want, got = outcome(MODEL_ONLY, m.value), outcome(TELEMETRY, m.value)
        assert got == want, (m.kind, m.value[:200] if m.value else m.value)
        fast = fast_telemetry(m.value)
        if want[0] == "error":
            assert fast is None, m.kind
            assert m.expect == "contract", (m.kind, want)
        else:
            assert m.expect != "contract", (m.kind, m.value[:200] if m.value else m.value)
            if fast is not None:
                assert fast == want[1]
    assert seen == set(kinds)


@pytest.mark.parametrize("raw,reason", [
    (b'{"machine_id":"line-1/cnc-01","ts":"2026-01-05T00:00:00Z","seq":1,"signals":{"ab_c":true}}', "boolean"),
    (b'{"machine_id":"line-1/cnc-01","ts":"2026-01-05T00:00:00Z","seq":1,"signals":{"ab_c":"1.5"}}', "string"),
    (b'{"machine_id":"line-1/cnc-01","ts":"2199-01-01T00:00:00Z","seq":1,"signals":{}}', "outside 2000..2099"),
    (b'{"machine_id":"line-1/cnc-01","ts":-1,"seq":1,"signals":{}}', "outside 2000..2099"),
    (b'{"machine_id":"line-1/cnc-01","ts":"2026-01-05T00:00:00Z","seq":1,"signals":{"ab_c":NaN}}', "not finite"),
    (b'{"machine_id":"line-1/cnc-01","ts":"2026-01-05T00:00:00Z","seq":1,"program":"' + b"x" * 201 + b'","signals":{}}',
     "at most 200"),
    (b'{"machine_id":"line-1/cnc-01","ts":"2026-01-05T00:00:00Z","seq":9223372036854775808,"signals":{}}',
     "less than or equal"),
])
def test_edge_rules_reject_with_a_reason_on_both_paths(raw: bytes, reason: str) -> None:
    for topic in (TELEMETRY, MODEL_ONLY):
        with pytest.raises(ContractError, match=reason):
            topic.decode(raw)


def test_signal_cap() -> None:
    doc = {"machine_id": "line-1/cnc-01", "ts": "2026-01-05T00:00:00Z", "seq": 1}
    ok = json.dumps({**doc, "signals": {f"s{i}_c": 1.0 for i in range(1000)}}).encode()
    assert fast_telemetry(ok) is not None and len(TELEMETRY.decode(ok).signals) == 1000
    over = json.dumps({**doc, "signals": {f"s{i}_c": 1.0 for i in range(1001)}}).encode()
    with pytest.raises(ContractError, match="at most 1000 items"):
        TELEMETRY.decode(over)
