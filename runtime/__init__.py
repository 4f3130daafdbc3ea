"""Kafka runtime shared by every stage: broker control, producer, consume loop, topics admin."""

from runtime.admin import ensure_topics
from runtime.consumer import ConsumeLoop, Record, Rejected
from runtime.producer import Producer

__all__ = ["ConsumeLoop", "Producer", "Record", "Rejected", "ensure_topics"]
