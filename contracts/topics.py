"""Typed topics: the only way LineWatch turns messages into Kafka bytes and back."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from pydantic import TypeAdapter, ValidationError

from contracts.errors import ContractError
from contracts.fastdecode import fast_telemetry
from contracts.messages import (
    AlertEvent,
    DeadLetter,
    HealthScore,
    MachineEvent,
    MaintenanceCommand,
    TelemetrySample,
)
from contracts.validation import validation_text

T = TypeVar("T")


@dataclass(frozen=True)
class Topic(Generic[T]):
    """A Kafka topic with its message type and key.

    ``encode`` and ``decode`` are the contract: producers never build dicts by hand and
    consumers decode inside their loop so one bad record cannot stall them.
    """

    name: str
    model: Any
    key_of: Callable[[T], str]
    description: str = ""
    fast: Callable[[bytes | str | None], T | None] | None = field(default=None, compare=False, repr=False)
    #: the topic's ``max.message.bytes`` when LineWatch creates it (None: the broker's default, 1,048,588)
    max_message_bytes: int | None = None
    _adapter: TypeAdapter[T] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_adapter", TypeAdapter(self.model))

    def encode(self, message: T) -> bytes:
        return self._adapter.dump_json(message)

    def key(self, message: T) -> bytes:
        return self.key_of(message).encode()

    def decode(self, raw: bytes | str | None) -> T:
        """Parse and validate one record value; any failure is a ``ContractError``."""
        if raw is None:
            raise ContractError(f"{self.name}: empty record value (tombstone)")
        if self.fast is not None:  # same rules; None = "let the model decide" (contracts/fastdecode.py)
            message = self.fast(raw)
            if message is not None:
                return message
        try:
            return self._adapter.validate_json(raw)
        except ValidationError as exc:
            raise ContractError(f"{self.name}: {validation_text(exc)}") from exc
        except (ValueError, TypeError) as exc:  # pragma: no cover - pydantic wraps most
            raise ContractError(f"{self.name}: {exc}") from exc

    def json_schema(self) -> dict[str, Any]:
        return self._adapter.json_schema()


class _Keyed(Protocol):
    @property
    def machine_id(self) -> str: ...


def _machine(msg: _Keyed) -> str:
    return msg.machine_id


#: Records up to this size reach the telemetry consumers (docs/kafka.md "Size limits"): a
#: producer's oversized or corrupt record becomes a dead letter (a summary) that names it,
#: instead of an error only that producer sees. Valid samples are far smaller (< 300 kB).
TELEMETRY_MAX_MESSAGE_BYTES = 8 * 1024 * 1024

TELEMETRY: Topic[TelemetrySample] = Topic(
    "linewatch.telemetry.v1", TelemetrySample, _machine, "One sample of one machine's signals.", fast_telemetry,
    max_message_bytes=TELEMETRY_MAX_MESSAGE_BYTES)
EVENTS: Topic[MachineEvent] = Topic(
    "linewatch.events.v1", MachineEvent, _machine,
    "Parts, failures, maintenance, state changes, PLC alarms: where labels come from.")
SCORES: Topic[HealthScore] = Topic(
    "linewatch.scores.v1", HealthScore, _machine, "Health, failure probabilities, RUL, factors.")
ALERTS: Topic[AlertEvent] = Topic(
    "linewatch.alerts.v1", AlertEvent, _machine, "Alert life-cycle events from the scorer.")
COMMANDS: Topic[MaintenanceCommand] = Topic(
    "linewatch.commands.v1", MaintenanceCommand, _machine, "Maintenance actions back to the line.")
DEADLETTER: Topic[DeadLetter] = Topic(
    "linewatch.deadletter.v1", DeadLetter, lambda m: m.key or "",
    "Records a stage could not process, with the reason and source coordinates.")

ALL_TOPICS: tuple[Topic[Any], ...] = (TELEMETRY, EVENTS, SCORES, ALERTS, COMMANDS, DEADLETTER)
BY_NAME: dict[str, Topic[Any]] = {t.name: t for t in ALL_TOPICS}
