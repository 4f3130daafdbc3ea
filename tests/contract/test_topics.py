"""Every topic round-trips; its JSON schema is snapshotted so a contract change shows in review.

Regenerate snapshots on purpose with: LINEWATCH_UPDATE_SNAPSHOTS=1 make test-unit
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from contracts import ALL_TOPICS, Topic
from contracts.examples import example

SNAPSHOTS = Path(__file__).parent / "snapshots"


@pytest.mark.parametrize("topic", ALL_TOPICS, ids=lambda t: t.name)
def test_round_trip(topic: Topic) -> None:
    msg = example(topic)
    raw = topic.encode(msg)
    assert topic.decode(raw) == msg
    assert topic.key(msg)
    assert json.loads(raw)["schema_version"] == 1


@pytest.mark.parametrize("topic", ALL_TOPICS, ids=lambda t: t.name)
def test_schema_snapshot(topic: Topic) -> None:
    path = SNAPSHOTS / f"{topic.name}.schema.json"
    current = json.dumps(topic.json_schema(), indent=2, sort_keys=True) + "\n"
    if os.environ.get("LINEWATCH_UPDATE_SNAPSHOTS") == "1":
        SNAPSHOTS.mkdir(exist_ok=True)
        path.write_text(current)
    assert path.exists(), f"no snapshot for {topic.name}: run with LINEWATCH_UPDATE_SNAPSHOTS=1"
    assert current == path.read_text(), f"{topic.name} contract changed: review, then update the snapshot"


def test_a_score_from_before_the_lead_times_still_decodes() -> None:
    """Scores stored or queued before ``mode_lead_hours`` existed decode with it empty."""
    from contracts import SCORES

    raw = json.loads(SCORES.encode(example(SCORES)))
    del raw["mode_lead_hours"]
    old = SCORES.decode(json.dumps(raw).encode())
    assert old.mode_lead_hours == {} and old.mode_horizon_hours == {"tool_wear": 4.0, "spindle_bearing": 96.0}


def test_topic_names_follow_the_convention() -> None:
    for topic in ALL_TOPICS:
        parts = topic.name.split(".")
        assert parts[0] == "linewatch" and parts[-1].startswith("v") and parts[-1][1:].isdigit()
