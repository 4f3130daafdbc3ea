"""ISA-18.2 / IEC 62682 alert states, derived from the alert's facts (pure: no database).

The scorer owns the process condition (``active``); operators own acknowledgement,
shelving, out-of-service and resolution. The state shown to people is derived from both,
so neither side can clobber the other.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any


class AlertState(StrEnum):
    """Alarm states of ANSI/ISA-18.2 (plus ``resolved``: closed with an outcome)."""

    NORMAL = "normal"
    UNACKNOWLEDGED = "unacknowledged"
    ACKNOWLEDGED = "acknowledged"
    RTN_UNACKNOWLEDGED = "rtn_unacknowledged"  # returned to normal, not yet acknowledged
    SHELVED = "shelved"
    SUPPRESSED = "suppressed"  # suppressed by design: machine in setup or planned maintenance
    OUT_OF_SERVICE = "out_of_service"
    RESOLVED = "resolved"


# States an operator still has to deal with (open alerts).
OPEN_STATES = frozenset({AlertState.UNACKNOWLEDGED, AlertState.ACKNOWLEDGED, AlertState.RTN_UNACKNOWLEDGED})
# States in which an alert calls nobody out (suppressed by design, or taken out of service).
SILENT_STATES = frozenset({AlertState.SUPPRESSED, AlertState.OUT_OF_SERVICE})


@dataclass(frozen=True)
class AlertFacts:
    """What decides an alert's state; each field has exactly one owner."""

    active: bool
    acknowledged: bool
    shelved_until: datetime | None
    suppressed: bool
    out_of_service: bool
    resolved: bool


def derive_state(facts: AlertFacts, now: datetime) -> AlertState:
    """The ISA-18.2 state at ``now``. Precedence: out of service > resolved > suppressed >
    shelved > the four-state acknowledge/condition cycle."""
    if facts.out_of_service:
        return AlertState.OUT_OF_SERVICE
    if facts.resolved:
        return AlertState.RESOLVED
    if facts.suppressed and facts.active:
        return AlertState.SUPPRESSED
    if facts.shelved_until is not None and facts.shelved_until > now:
        return AlertState.SHELVED
    if facts.active:
        return AlertState.ACKNOWLEDGED if facts.acknowledged else AlertState.UNACKNOWLEDGED
    return AlertState.NORMAL if facts.acknowledged else AlertState.RTN_UNACKNOWLEDGED


def facts_of(row: Mapping[str, Any]) -> AlertFacts:
    """Facts from a row of the ``alerts`` table (a mapping of column -> value)."""
    return AlertFacts(
        active=bool(row["active"]), acknowledged=row["acknowledged_at"] is not None,
        shelved_until=row["shelved_until"], suppressed=bool(row["suppressed"]),
        out_of_service=bool(row["out_of_service"]), resolved=row["resolved_at"] is not None,
    )
