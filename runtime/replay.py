"""Replay dead letters: send the original bytes of matching dead letters back to a topic.

``linewatch kafka replay-deadletters`` wraps :func:`replay`. The dead-letter topic is read
from its start to the end offsets seen when the replay began (group-less, nothing is
committed), so a replay is repeatable; replayed records get new offsets in the target
topic and go through the contract and the stage again (fix the producer, the plant file
or the rule first, or the same reason comes back). Summaries of oversized records
(``truncated``) hold only a prefix: they are counted and listed, never replayed.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from kafka import KafkaConsumer, TopicPartition

from contracts.errors import ContractError
from contracts.messages import DeadLetter
from contracts.settings import KafkaSettings
from contracts.topics import DEADLETTER
from runtime.producer import Producer


@dataclass
class ReplayReport:
    matched: int = 0
    replayed: int = 0
    summaries: list[str] = field(default_factory=list)  # "topic[partition]@offset" of truncated letters
    unreadable: int = 0


def replay(settings: KafkaSettings, *, keep: Callable[[DeadLetter], bool] = lambda dl: True,
           to_topic: str | None = None, dry_run: bool = False, limit: int | None = None,
           deadletter_topic: str = DEADLETTER.name, timeout_s: float = 120.0) -> ReplayReport:
    """Replay the dead letters ``keep`` accepts to their source topic (or ``to_topic``)."""
    report = ReplayReport()
    reader = KafkaConsumer(group_id=None, enable_auto_commit=False, **settings.client_kwargs())
    producer = None if dry_run else Producer(settings)
    try:
        tps = [TopicPartition(deadletter_topic, p) for p in sorted(reader.partitions_for_topic(deadletter_topic) or ())]
        if not tps:
            return report
        reader.assign(tps)
        reader.seek_to_beginning(*tps)
        ends = reader.end_offsets(tps)
        left = {tp for tp in tps if ends[tp] > 0}
        deadline = time.monotonic() + timeout_s
        while left and time.monotonic() < deadline and (limit is None or report.matched < limit):
            for tp, batch in reader.poll(timeout_ms=500).items():
                for rec in batch:
                    if rec.offset >= ends[tp] or (limit is not None and report.matched >= limit):
                        break
                    try:
                        letter = DEADLETTER.decode(rec.value)
                    except ContractError:
                        report.unreadable += 1
                        continue
                    if not keep(letter):
                        continue
                    report.matched += 1
                    where = f"{letter.source_topic}[{letter.source_partition}]@{letter.source_offset}"
                    if letter.truncated:
                        report.summaries.append(where)
                        continue
                    if producer is not None:
                        key = letter.key.encode() if letter.key is not None else None
                        producer.send_raw(to_topic or letter.source_topic, base64.b64decode(letter.value_b64), key)
                    report.replayed += 1
                if reader.position(tp) >= ends[tp]:
                    left.discard(tp)
        if producer is not None:
            producer.flush()
        return report
    finally:
        reader.close()
        if producer is not None:
            producer.close()


def matcher(stage: str | None = None, error_type: str | None = None, reason: str | None = None,
            source_topic: str | None = None, since: datetime | None = None) -> Callable[[DeadLetter], bool]:
    """A filter over dead letters: every given condition must hold (``reason`` is a substring)."""

    def keep(dl: DeadLetter) -> bool:
        return ((stage is None or dl.stage == stage) and (error_type is None or dl.error_type == error_type)
                and (reason is None or reason in dl.reason)
                and (source_topic is None or dl.source_topic == source_topic)
                and (since is None or dl.ts >= since))

    return keep
