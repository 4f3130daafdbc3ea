"""LineWatch contracts: messages, topics, settings pieces and errors.

The one package every other package imports; it imports nothing of ours.
"""

from contracts.errors import BrokerError, ConfigError, ContractError, LineWatchError
from contracts.messages import (
    AlertAction,
    AlertEvent,
    DeadLetter,
    Factor,
    FailureOccurred,
    HealthScore,
    MachineEvent,
    MachineState,
    MaintenanceCommand,
    MaintenanceDone,
    PartCompleted,
    PlcAlarm,
    Quality,
    StateChanged,
    TelemetrySample,
)
from contracts.settings import KafkaSettings, StoreSettings
from contracts.topics import ALERTS, ALL_TOPICS, BY_NAME, COMMANDS, DEADLETTER, EVENTS, SCORES, TELEMETRY, Topic

__all__ = [
    "ALERTS", "ALL_TOPICS", "BY_NAME", "COMMANDS", "DEADLETTER", "EVENTS", "SCORES", "TELEMETRY",
    "AlertAction", "AlertEvent", "BrokerError", "ConfigError", "ContractError", "DeadLetter", "Factor",
    "FailureOccurred", "HealthScore", "KafkaSettings", "LineWatchError", "MachineEvent", "MachineState",
    "MaintenanceCommand", "MaintenanceDone", "PartCompleted", "PlcAlarm", "Quality", "StateChanged",
    "StoreSettings", "TelemetrySample", "Topic",
]
