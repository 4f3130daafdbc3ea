"""Tag updates -> ``TelemetrySample`` messages: scaling, deadband, quality, sequence numbers.

Pure: no network, no Kafka. Each protocol source feeds ``SampleAssembler.update`` with
raw values as they arrive and calls ``flush`` at the end of a batch (one publish
response, one MQTT message, one poll cycle); ``flush`` returns one sample per machine
that changed, holding the latest value of every signal seen for that machine.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime

from contracts.messages import MAX_TEXT, MachineState, PlcAlarm, Quality, StateChanged, TelemetrySample
from services.connectors.core.mapping import TagBase

Event = PlcAlarm | StateChanged


def opcua_quality(status_code: int) -> Quality:
    """OPC UA StatusCode -> quality: the two top bits are the severity (Part 4, 7.39)."""
    severity = (status_code >> 30) & 0b11
    return Quality.GOOD if severity == 0 else Quality.UNCERTAIN if severity == 1 else Quality.BAD


def sparkplug_quality(code: int | None) -> Quality:
    """Sparkplug ``Quality`` property (OPC DA convention): 192 good, 64-191 uncertain, below 64 bad."""
    if code is None or code >= 192:
        return Quality.GOOD
    return Quality.UNCERTAIN if code >= 64 else Quality.BAD


@dataclass
class _MachineState:
    signals: dict[str, float | None] = field(default_factory=dict)
    quality: dict[str, Quality] = field(default_factory=dict)
    state: MachineState = MachineState.RUNNING
    ts: datetime | None = None
    dirty: bool = False
    alarm_bits: dict[tuple[str, int], bool] = field(default_factory=dict)  # (tag signal, bit) -> active
    texts: dict[str, str | None] = field(default_factory=dict)  # program / tool_id / part_id
    state_seen: bool = False


class SampleAssembler:
    """Turns tag updates of one source into telemetry samples.

    ``seqs`` carries each machine's last emitted sequence number across restarts (the
    disk buffer stores them) so ``seq`` keeps increasing by one per machine.
    """

    def __init__(self, source: str, seqs: dict[str, int] | None = None) -> None:
        self.source = source
        self._seqs = dict(seqs or {})
        self._machines: dict[str, _MachineState] = {}
        self._events: list[Event] = []
        self.deadbanded = 0
        self.bad_values = 0

    def update(self, tag: TagBase, raw: float | int | bool | str | None, ts: datetime | None,
               quality: Quality = Quality.GOOD) -> bool:
        """Apply one raw value; returns False if the deadband suppressed it or it was unusable."""
        m = self._machines.setdefault(tag.machine, _MachineState())
        stamp = (ts or datetime.now(UTC)).astimezone(UTC)
        if tag.kind == "state":
            return self._update_state(m, tag, raw, stamp, tag.machine)
        if tag.kind == "alarm":
            return self._update_alarm(m, tag, raw, stamp, quality)
        if tag.kind == "text":
            return self._update_text(m, tag, raw, stamp, quality)
        if isinstance(raw, str):  # a string read for a number tag: unusable, never a crash
            self.bad_values += 1
            raw, quality = None, Quality.BAD
        value = None if raw is None else tag.engineering(float(raw))
        if value is not None and not math.isfinite(value):
            self.bad_values += 1
            value, quality = None, Quality.BAD
        old = m.signals.get(tag.signal)
        old_quality = m.quality.get(tag.signal, Quality.GOOD)
        if (tag.signal in m.signals and value is not None and old is not None and quality == old_quality
                and abs(value - old) < tag.deadband):
            self.deadbanded += 1
            return False
        m.signals[tag.signal] = value
        if quality == Quality.GOOD:
            m.quality.pop(tag.signal, None)
        else:
            m.quality[tag.signal] = quality
        self._touch(m, stamp)
        return True

    def _update_state(self, m: _MachineState, tag: TagBase, raw: object, stamp: datetime, machine: str) -> bool:
        try:
            state = tag.states[int(raw)]  # type: ignore[arg-type]
        except (KeyError, TypeError, ValueError):
            self.bad_values += 1
            return False
        if state == m.state and m.ts is not None:
            m.state_seen = True
            return False
        if m.state_seen and state != m.state and m.state != MachineState.OFFLINE:
            # a change the PLC reported (the first reading after start or an outage is not a change)
            self._events.append(StateChanged(
                event_id=f"{machine}|state_changed|{stamp.isoformat()}|{state.value}", machine_id=machine, ts=stamp,
                from_state=m.state, to_state=state, reason=f"PLC state tag {tag.signal} = {raw}"))
        m.state, m.state_seen = state, True
        self._touch(m, stamp)
        return True

    def _update_alarm(self, m: _MachineState, tag: TagBase, raw: object, stamp: datetime, quality: Quality) -> bool:
        """Edge-triggered: one ``plc_alarm`` event when a bit turns on, one when it turns off.
        A bad or missing reading changes nothing (an alarm is not cleared by a dropout)."""
        if raw is None or quality == Quality.BAD:
            return False
        try:
            word = int(raw)  # type: ignore[call-overload]
        except (TypeError, ValueError, OverflowError):
            self.bad_values += 1
            return False
        changed = False
        for bit, alarm in sorted(tag.alarms.items()):
            active = bool((word >> bit) & 1)
            key = (tag.signal, bit)
            before = m.alarm_bits.get(key)
            m.alarm_bits[key] = active
            if before == active or (before is None and not active):
                continue  # no edge (an alarm already off at start is not news)
            changed = True
            edge = "raised" if active else "cleared"
            self._events.append(PlcAlarm(
                event_id=f"{tag.machine}|plc_alarm|{alarm.code}|{stamp.isoformat()}|{edge}", machine_id=tag.machine,
                ts=stamp, code=alarm.code, text=alarm.text_en, text_zh=alarm.text_zh, severity=alarm.severity,
                active=active))
        return changed

    def _update_text(self, m: _MachineState, tag: TagBase, raw: object, stamp: datetime, quality: Quality) -> bool:
        """A string for the sample's ``program`` / ``tool_id`` / ``part_id`` (the tag's signal); cut to the
        contract's length; an empty or bad reading leaves the field unset (None)."""
        text = raw[:MAX_TEXT] if isinstance(raw, str) and raw and quality != Quality.BAD else None
        if raw is not None and not isinstance(raw, str):
            self.bad_values += 1
        if tag.signal in m.texts and m.texts[tag.signal] == text:
            return False
        m.texts[tag.signal] = text
        self._touch(m, stamp)
        return True

    def events(self) -> list[Event]:
        """PLC alarm and state-change events since the last call, in the order they happened."""
        out, self._events = self._events, []
        return out

    @staticmethod
    def _touch(m: _MachineState, stamp: datetime) -> None:
        m.ts = stamp if m.ts is None or stamp > m.ts else m.ts
        m.dirty = True

    def flush(self) -> list[TelemetrySample]:
        """One sample per machine updated since the last flush, in machine order."""
        out = []
        for machine_id in sorted(self._machines):
            m = self._machines[machine_id]
            if not m.dirty:
                continue
            m.dirty = False
            if m.state == MachineState.OFFLINE:
                m.state = MachineState.RUNNING  # data flows again: the source is back
            # a source that reads only bad values cannot vouch for the machine: offline, never running
            blind = bool(m.signals) and all(v is None for v in m.signals.values())
            out.append(self._sample(machine_id, m, MachineState.OFFLINE if blind else m.state))
        return out

    def offline(self, machines: list[str], ts: datetime | None = None) -> list[TelemetrySample]:
        """Mark machines offline (source lost): one sample each with no signals, state OFFLINE."""
        stamp = (ts or datetime.now(UTC)).astimezone(UTC)
        out = []
        for machine_id in sorted(set(machines)):
            m = self._machines.setdefault(machine_id, _MachineState())
            if m.state == MachineState.OFFLINE:
                continue
            m.state, m.dirty, m.state_seen = MachineState.OFFLINE, False, False
            m.signals.clear()
            m.quality.clear()
            m.texts.clear()
            m.ts = stamp if m.ts is None or stamp > m.ts else m.ts
            out.append(self._sample(machine_id, m, MachineState.OFFLINE))
        return out

    def _sample(self, machine_id: str, m: _MachineState, state: MachineState) -> TelemetrySample:
        seq = self._seqs.get(machine_id, -1) + 1
        self._seqs[machine_id] = seq
        return TelemetrySample(machine_id=machine_id, ts=m.ts, seq=seq, signals=dict(m.signals),
                               quality=dict(m.quality), state=state, source=self.source,
                               **{k: v for k, v in m.texts.items() if state != MachineState.OFFLINE})
