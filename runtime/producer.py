"""A producer that only speaks typed topics: keys, acks=all, idempotence, retries."""

from __future__ import annotations

from typing import Any

from contracts.settings import KafkaSettings
from contracts.topics import Topic
from runtime import transport


class Producer:
    """Thin wrapper over the transport's producer (``runtime/transport.py``: kafka-python's
    ``KafkaProducer`` or librdkafka) that encodes through the contracts."""

    def __init__(self, settings: KafkaSettings, **overrides: Any) -> None:
        kw: dict[str, Any] = {
            "acks": "all",
            "enable_idempotence": True,
            "retries": 2_147_483_647,
            "linger_ms": 5,
            "max_in_flight_requests_per_connection": 5,
            "delivery_timeout_ms": 120_000,
            **settings.client_kwargs(),
        }
        kw.update(overrides)
        self._producer = transport.producer(settings, **kw)

    def send(self, topic: Topic[Any], message: Any) -> transport.Delivery:
        """Queue one message; returns a future (``get()`` waits for delivery)."""
        return self._producer.send(topic.name, value=topic.encode(message), key=topic.key(message))

    def send_raw(self, topic_name: str, value: bytes | None, key: bytes | None = None) -> transport.Delivery:
        """Send bytes as they are (tests, replays of dead letters)."""
        return self._producer.send(topic_name, value=value, key=key)

    def flush(self, timeout: float | None = None) -> None:
        self._producer.flush(timeout=timeout)

    def close(self, timeout: float | None = 10) -> None:
        self._producer.close(timeout=timeout)

    def __enter__(self) -> Producer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.flush()
        self.close()
