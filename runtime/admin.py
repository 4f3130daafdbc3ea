"""Topic administration with kafka-python's admin client.

Topics are created with the configs their contract asks for (``Topic.max_message_bytes``
→ ``max.message.bytes``); existing LineWatch topics get those configs set when they differ,
so a topic created before a limit changed is brought in line by ``linewatch kafka topics``.
"""

from __future__ import annotations

from collections.abc import Iterable

from kafka import KafkaAdminClient
from kafka.admin import ConfigResource, ConfigResourceType
from kafka.errors import TopicAlreadyExistsError

from contracts.errors import BrokerError
from contracts.settings import KafkaSettings
from contracts.topics import ALL_TOPICS, BY_NAME


def topic_configs(name: str) -> dict[str, str]:
    """Broker configs LineWatch sets on topic ``name`` (empty for topics it does not know)."""
    topic = BY_NAME.get(name)
    if topic is None or topic.max_message_bytes is None:
        return {}
    return {"max.message.bytes": str(topic.max_message_bytes)}


def _align_configs(admin: KafkaAdminClient, names: list[str]) -> None:
    """Set the configs of existing topics that differ from ``topic_configs`` (raises ``BrokerError``)."""
    wanted = {n: cfg for n in names if (cfg := topic_configs(n))}
    if not wanted:
        return
    described = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, n) for n in wanted])
    current = {name: {k: (v or {}).get("value") for k, v in cfg.items()}
               for by_name in described.values() for name, cfg in by_name.items()}
    change = [ConfigResource(ConfigResourceType.TOPIC, n, configs=cfg) for n, cfg in wanted.items()
              if any(current.get(n, {}).get(k) != v for k, v in cfg.items())]
    if not change:
        return
    outcome = admin.alter_configs(change)
    failed = [f"{name}: {result}" for by_name in outcome.values() for name, result in by_name.items()
              if result != "OK"]
    if failed:
        raise BrokerError(f"could not set topic configs {wanted}: {'; '.join(failed)}")


def ensure_topics(settings: KafkaSettings, names: Iterable[str] | None = None,
                  partitions: int | None = None) -> list[str]:
    """Create the topics that do not exist yet (with their configs); returns the names created."""
    wanted = list(names) if names is not None else [t.name for t in ALL_TOPICS]
    admin = KafkaAdminClient(**settings.client_kwargs())
    try:
        existing = set(admin.list_topics())
        missing = [n for n in wanted if n not in existing]
        if missing:
            spec = {n: {"num_partitions": partitions or settings.topic_partitions, "replication_factor": 1,
                        "configs": topic_configs(n)} for n in missing}
            try:
                admin.create_topics(spec, wait_for_metadata=True)
            except TopicAlreadyExistsError:  # a concurrent creator won the race
                pass
        _align_configs(admin, [n for n in wanted if n in existing])
        return missing
    finally:
        admin.close()
