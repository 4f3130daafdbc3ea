"""The pilot figures the docs quote are the committed benchmark result's, not a hand copy."""

from __future__ import annotations

import json

import pytest

from bench.bench_pilot import DOC_BLOCKS, ROOT, doc_block

RESULT = json.loads((ROOT / "bench" / "results" / "pilot.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("doc", sorted(DOC_BLOCKS))
def test_the_docs_tables_are_the_committed_pilot_result(doc: str) -> None:
    block = doc_block((ROOT / doc).read_text(encoding="utf-8"))
    assert block == DOC_BLOCKS[doc](RESULT), f"{doc} is out of step: run python -m bench.bench_pilot docs"


def test_the_tables_carry_every_scope_arm_and_the_baselines() -> None:
    text = DOC_BLOCKS["docs/pilot.md"](RESULT)
    for scope in RESULT["kpis_per_scope"]:
        assert f"**{scope}**" in text
    for comparison in ("predictive vs preventive", "predictive vs run_to_failure"):
        assert comparison in text
    cnc = RESULT["kpis_per_scope"]["line-1 (cnc)"]["predictive"]["operating_cost"]
    assert f"{cnc['mean']:,.0f} [{cnc['low']:,.0f}, {cnc['high']:,.0f}]" in text
