"""Topic administration with kafka-python's admin client."""

from __future__ import annotations

from collections.abc import Iterable

from kafka import KafkaAdminClient
from kafka.errors import TopicAlreadyExistsError

from contracts.settings import KafkaSettings
from contracts.topics import ALL_TOPICS


def ensure_topics(settings: KafkaSettings, names: Iterable[str] | None = None,
                  partitions: int | None = None) -> list[str]:
    """Create the topics that do not exist yet; returns the names created."""
    wanted = list(names) if names is not None else [t.name for t in ALL_TOPICS]
    admin = KafkaAdminClient(**settings.client_kwargs())
    try:
        existing = set(admin.list_topics())
        missing = [n for n in wanted if n not in existing]
        if missing:
            spec = {n: {"num_partitions": partitions or settings.topic_partitions, "replication_factor": 1}
                    for n in missing}
            try:
                admin.create_topics(spec, wait_for_metadata=True)
            except TopicAlreadyExistsError:  # a concurrent creator won the race
                pass
        return missing
    finally:
        admin.close()
