"""A seeded mutation corpus for the telemetry topic (written for LineWatch, no outside corpus).

``corpus(bases, n, seed)`` yields ``Mutant``s made from valid ``TelemetrySample``s: the
record bytes, the key, the mutation kind and what must happen to it:

- ``contract``: rejected by the telemetry contract (dead letter ``ContractError``);
- ``worker``: valid JSON of the contract, rejected by the scoring worker's checks (unknown
  machine, unknown signals only, time too far from the record time, a time jump ahead of
  the machine's timeline, out of order) with a dead letter;
- ``kept``: odd but acceptable; scored or counted (an absurd value becomes missing).

Used by the contract tests (fast path = model over this corpus), the fuzz tier
(``tests/integration/test_fuzz_edge.py``) and the acceptance run (``bench/bench_fuzz.py``).
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import timedelta

from contracts.messages import TelemetrySample
from contracts.topics import TELEMETRY

MB = 1_000_000


@dataclass(frozen=True)
class Mutant:
    kind: str
    key: bytes | None
    value: bytes | None
    expect: str  # "contract" | "worker" | "kept"


def _doc(sample: TelemetrySample) -> dict:
    return json.loads(TELEMETRY.encode(sample))


def _dump(doc: dict) -> bytes:
    return json.dumps(doc, allow_nan=True).encode()


def _with(doc: dict, **changes: object) -> bytes:
    return _dump({**doc, **changes})


def _signal(doc: dict, value: object, raw: bool = False) -> bytes:
    name = next(iter(doc["signals"]))
    if raw:  # a JSON token json.dumps would not write (NaN, Infinity, 1e400)
        return _dump(doc).replace(f'"{name}": {json.dumps(doc["signals"][name])}'.encode(),
                                  f'"{name}": {value}'.encode(), 1)
    return _with(doc, signals={**doc["signals"], name: value})


Make = Callable[[TelemetrySample, dict, random.Random], tuple[bytes | None, str]]

_HOSTILE_IDS = ["../../etc/passwd", "line-1/cnc-01'; DROP TABLE scores;--", "LINE-1/CNC-01", "line-1/",
                "line-1/cnc-01\n", "line-1/cnc\u200b-01", "line-1/" + "a" * 5000, "<script>alert(1)</script>",
                "line-1/cnc-01/extra", "\u0000"]


def _truncated(s, d, r):
    raw = _dump(d)
    return raw[: r.randrange(1, len(raw) - 1)], "contract"


def _invalid_utf8(s, d, r):
    raw = bytearray(_dump(d))
    at = raw.index(b'"machine_id": "') + 16
    raw[at:at] = r.choice([b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80"])
    return bytes(raw), "contract"


def _not_json(s, d, r):
    return r.choice([b"", b"not json", b"\x00\x01\x02", b"{", b"[1,2]", b"null", b"42", b'"str"']), "contract"


def _deep_nesting(s, d, r):
    depth = r.choice([200, 5_000, 100_000])
    return _dump(d).replace(b'"signals": {', b'"signals": ' + b"[" * depth + b"]" * depth + b', "x": {', 1), "contract"


def _huge(size: int) -> Make:
    def make(s, d, r):
        field = r.choice(["program", "signal_name", "signals"])
        if field == "program":
            return _with(d, program="x" * size), "contract"
        if field == "signal_name":
            return _with(d, signals={**d["signals"], "s" * size: 1.0}), "contract"
        n = size // 20
        return _with(d, signals={f"s{i}_c": float(i) for i in range(n)}), "contract"
    return make


def _nan_inf(s, d, r):
    return _signal(d, r.choice(["NaN", "Infinity", "-Infinity", "1e400", "-1e999"]), raw=True), "contract"


def _float_extremes(s, d, r):  # valid JSON numbers the contract accepts; the worker makes them missing
    return _signal(d, r.choice([1.7e308, -1.7e308, 5e-324, 1e300])), "kept"


def _ts_future(s, d, r):
    return _with(d, ts=r.choice(["2199-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "2100-01-01T00:00:00Z"])), "contract"


def _ts_past(s, d, r):
    return _with(d, ts=r.choice([-1, 0, "1970-01-01T00:00:00Z", "0001-01-01T00:00:00Z", "1999-12-31T23:59:59Z"])), \
        "contract"


def _ts_far_from_record(s, d, r):  # inside the contract's years, far from when it was produced
    shift = r.choice([timedelta(days=500), timedelta(days=-5_000)])  # default bounds: 400 d ahead, 3650 d behind
    return _with(d, ts=(s.ts + shift).isoformat()), "worker"


def _ts_ahead_in_bounds(s, d, r):  # inside every bound but days ahead of the machine's timeline
    return _with(d, ts=(s.ts + timedelta(days=r.uniform(2, 300))).isoformat(),
                 seq=r.randrange(10**6, 10**9)), "worker"  # TimeJumpAhead: must not capture the timeline


def _ts_behind_in_bounds(s, d, r):  # older than the machine's newest sample, a seq it has not seen
    return _with(d, ts=(s.ts - timedelta(minutes=r.uniform(1, 600))).isoformat(),
                 seq=r.randrange(10**6, 10**9)), "worker"  # OutOfOrder


def _ts_garbage(s, d, r):
    return _with(d, ts=r.choice(["yesterday", "", "2026-13-01T00:00:00Z", "2026-01-05T00:00:00", 1e20, True,
                                 "2026-01-05T25:00:00Z", None, [2026, 1, 5]])), "contract"


def _hostile_id(s, d, r):
    return _with(d, machine_id=r.choice(_HOSTILE_IDS)), "contract"


def _unknown_machine(s, d, r):
    return _with(d, machine_id=f"zz-fuzz-line/m-{r.randrange(10_000)}"), "worker"


def _duplicate_keys(s, d, r):
    raw = _dump(d)  # the last duplicate wins in both decoders: make it the invalid one
    bad = r.choice([b'"seq": -5', b'"machine_id": "BAD ID"', b'"signals": []', b'"ts": "never"'])
    return raw[:-1] + b", " + bad + b"}", "contract"


def _wrong_types(s, d, r):
    return _with(d, **r.choice([{"seq": "abc"}, {"seq": 1.5}, {"signals": [1, 2]}, {"state": 5},
                                {"quality": "bad"}, {"machine_id": 17}, {"signals": None},
                                {"program": ["a"]}, {"source": None}, {"quality": {"x_c": "excellent"}}])), "contract"


def _schema_version(s, d, r):
    return _with(d, schema_version=r.choice([0, 2, 999, "1", None, -1, 1.5])), "contract"


def _boolean_value(s, d, r):
    return _signal(d, r.choice([True, False])), "contract"


def _string_number(s, d, r):
    return _signal(d, r.choice(["1.5", "", "NaN", "0x10"])), "contract"


def _too_many_signals(s, d, r):
    return _with(d, signals={f"s{i}_c": 1.0 for i in range(r.choice([1001, 5_000, 50_000]))}), "contract"


def _unknown_field(s, d, r):
    return _with(d, **{r.choice(["bogus", "__proto__", "signals_v2", "$where"]): 1}), "contract"


def _bad_signal_name(s, d, r):
    return _with(d, signals={**d["signals"], r.choice(["Spindle Speed", "1abc_c", "a", "x" * 81, "é_c", ""]): 1.0}), \
        "contract"


def _bad_seq(s, d, r):
    return _with(d, seq=r.choice([-1, 2**63, 2**70, -(2**63)])), "contract"


def _unknown_signals_only(s, d, r):
    return _with(d, signals={f"fuzz_{i}_c": 1.0 for i in range(r.randrange(1, 20))}), "worker"


def _not_an_object(s, d, r):
    return r.choice([_dump([d]), b'"' + _dump(d).replace(b'"', b'\\"') + b'"', b"true"]), "contract"


def _nul_bytes(s, d, r):
    return _with(d, program="O1\u0000001", source="sim\u0000"), "kept"


def _tombstone(s, d, r):
    return None, "contract"


def _whitespace_and_key(s, d, r):  # odd but valid: padded JSON, unicode escapes, no key match needed
    return b"  \n" + _dump(d).replace(b'"sim"', b'"\\u0073im"') + b"\n ", "kept"


KINDS: dict[str, Make] = {
    "truncated": _truncated, "invalid_utf8": _invalid_utf8, "not_json": _not_json, "deep_nesting": _deep_nesting,
    "huge_1mb": _huge(1 * MB), "huge_5mb": _huge(5 * MB), "nan_infinity": _nan_inf,
    "float_extremes": _float_extremes, "ts_future": _ts_future, "ts_past": _ts_past,
    "ts_far_from_record": _ts_far_from_record, "ts_ahead_in_bounds": _ts_ahead_in_bounds,
    "ts_behind_in_bounds": _ts_behind_in_bounds, "ts_garbage": _ts_garbage, "hostile_id": _hostile_id,
    "unknown_machine": _unknown_machine, "duplicate_keys": _duplicate_keys, "wrong_types": _wrong_types,
    "schema_version": _schema_version, "boolean_value": _boolean_value, "string_number": _string_number,
    "too_many_signals": _too_many_signals, "unknown_field": _unknown_field, "bad_signal_name": _bad_signal_name,
    "bad_seq": _bad_seq, "unknown_signals_only": _unknown_signals_only, "not_an_object": _not_an_object,
    "nul_bytes": _nul_bytes, "tombstone": _tombstone, "odd_but_valid": _whitespace_and_key,
}
BIG = ("huge_1mb", "huge_5mb")


def corpus(bases: Sequence[TelemetrySample], n: int, seed: int = 0, *, big: int | None = None,
           kinds: Sequence[str] | None = None) -> Iterator[Mutant]:
    """``n`` mutants of the base samples, every kind in turn; ``big`` caps the 1/5 MB ones."""
    rng = random.Random(seed)
    names = list(kinds or KINDS)
    big_left = n if big is None else big
    i = 0
    while i < n:
        kind = names[i % len(names)] if i < len(names) else rng.choice(names)
        if kind in BIG:
            if big_left <= 0:
                kind = "truncated"
            else:
                big_left -= 1
        base = bases[rng.randrange(len(bases))]
        value, expect = KINDS[kind](base, _doc(base), rng)
        yield Mutant(kind, base.machine_id.encode(), value, expect)
        i += 1
