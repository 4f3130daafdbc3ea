"""Modbus TCP face of the simulated line (pymodbus 3.16 ``SimDevice`` datastore).

Layout, one Modbus unit per machine (unit id = machine position + 1):
- holding registers: signal *j* as float32 at address ``2*j`` (high word first);
- input registers: signal *j* as int16 of ``value * 10`` at address ``j`` (one decimal);
- after the n signals: ``machine_state`` (``lines.STATE_CODES``) as uint16 at holding ``2*n``
  and input ``n``;
- holding ``2*n+1``: a status word, bit 0 = running, bits 4..7 = the state code (a bit field);
- holding ``2*n+2`` .. ``2*n+9``: the sample's ``program`` as a string of 16 characters
  (two per register, first character in the high byte, NUL-padded).
pymodbus 3.16 replaced the old datastore (``ModbusSequentialDataBlock`` became 1-based
and ``ModbusServerContext.async_setValues`` answers DEVICE_BUSY), so values are filled
in by the device's ``action`` hook at read time from the latest sample.
"""

from __future__ import annotations

import asyncio
import logging
import struct
from functools import partial

from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

from contracts.messages import MachineState, TelemetrySample
from simulators.plc.lines import STATE_CODES, STATE_TAG, LatestSamples, state_code

log = logging.getLogger("linewatch.plc.modbus")
HOLDING_FC = {3, 6, 16, 22, 23}
INPUT_FC = {4}
INT16_SCALE = 10.0
PROGRAM_REGISTERS = 8  # 16 characters


def layout(line: LatestSamples) -> list[dict]:
    """The register map as mapping-file tags (both tables), for docs, tests and ``--print-mapping``."""
    tags = []
    for unit, mid in enumerate(line.machine_ids(), start=1):
        for j, signal in enumerate(line.signals(mid)):
            tags.append({"machine": mid, "signal": signal, "unit_id": unit, "table": "holding",
                         "address": 2 * j, "type": "float32", "word_order": "big"})
            tags.append({"machine": mid, "signal": signal, "unit_id": unit, "table": "input",
                         "address": j, "type": "int16", "scale": 1 / INT16_SCALE})
        n = len(line.signals(mid))
        states = {code: state.value for state, code in STATE_CODES.items()}
        tags.append({"machine": mid, "signal": STATE_TAG, "kind": "state", "states": states, "unit_id": unit,
                     "table": "holding", "address": 2 * n, "type": "uint16"})
        tags.append({"machine": mid, "signal": "status_state", "kind": "state", "states": states, "unit_id": unit,
                     "table": "holding", "address": 2 * n + 1, "type": "uint16", "bit": 4, "bits": 4})
        tags.append({"machine": mid, "signal": "program", "kind": "text", "unit_id": unit, "table": "holding",
                     "address": 2 * n + 2, "type": "string", "length": PROGRAM_REGISTERS})
    return tags


def status_word(sample: TelemetrySample) -> int:
    """Bit 0: running; bits 4..7: the state code."""
    code = state_code(sample)
    return (code & 0xF) << 4 | (1 if code == STATE_CODES[MachineState.RUNNING] else 0)


def _float_words(value: float) -> list[int]:
    raw = struct.pack(">f", value)
    return [int.from_bytes(raw[0:2], "big"), int.from_bytes(raw[2:4], "big")]


def _string_words(text: str, registers: int) -> list[int]:
    """Two characters per register, the first in the high byte, NUL-padded (the common PLC layout)."""
    raw = text.encode("ascii", "replace")[: 2 * registers].ljust(2 * registers, b"\x00")
    return [raw[i] << 8 | raw[i + 1] for i in range(0, len(raw), 2)]


def _int16_word(value: float) -> int:
    number = max(-32768, min(32767, int(round(value * INT16_SCALE))))
    return number & 0xFFFF


class ModbusFace:
    """Holds the latest samples and answers reads from them."""

    def __init__(self, line: LatestSamples) -> None:
        self.line = line
        self.latest: dict[str, TelemetrySample] = {}
        self.units = {unit: mid for unit, mid in enumerate(line.machine_ids(), start=1)}

    async def _action(self, unit: int, function_code: int, start_address: int, address: int, count: int,
                      current_registers: list[int], set_values) -> None:
        sample = self.latest.get(self.units[unit])
        if sample is None:
            return None
        signals = self.line.signals(sample.machine_id)
        n = len(signals)
        for offset in range(count):
            reg = address + offset
            if function_code in HOLDING_FC:
                j, half = divmod(reg, 2)
                if j < n:
                    current_registers[reg - start_address] = _float_words(sample.signals.get(signals[j]) or 0.0)[half]
                elif reg == 2 * n:
                    current_registers[reg - start_address] = state_code(sample)
                elif reg == 2 * n + 1:
                    current_registers[reg - start_address] = status_word(sample)
                elif 2 * n + 2 <= reg < 2 * n + 2 + PROGRAM_REGISTERS:
                    words = _string_words(sample.program or "", PROGRAM_REGISTERS)
                    current_registers[reg - start_address] = words[reg - 2 * n - 2]
            elif function_code in INPUT_FC and reg < n:
                current_registers[reg - start_address] = _int16_word(sample.signals.get(signals[reg]) or 0.0)
            elif function_code in INPUT_FC and reg == n:
                current_registers[reg - start_address] = state_code(sample)
        return None

    def devices(self) -> list[SimDevice]:
        out = []
        for unit, mid in self.units.items():
            n = len(self.line.signals(mid))
            blocks = ([SimData(0, count=1, values=False, datatype=DataType.BITS)],
                      [SimData(0, count=1, values=False, datatype=DataType.BITS)],
                      [SimData(0, count=2 * n + 2 + PROGRAM_REGISTERS, values=0, datatype=DataType.REGISTERS)],
                      [SimData(0, count=n + 1, values=0, datatype=DataType.REGISTERS)])
            out.append(SimDevice(unit, simdata=blocks, action=partial(self._action, unit)))
        return out


async def serve(line: LatestSamples, port: int, period_s: float, stop: asyncio.Event) -> None:
    """Run the Modbus TCP server on 127.0.0.1:``port`` until ``stop`` is set."""
    face = ModbusFace(line)
    face.latest = line.step()
    server = ModbusTcpServer(face.devices(), address=("127.0.0.1", port))
    task = asyncio.create_task(server.serve_forever())
    log.info("Modbus TCP face on 127.0.0.1:%d (%d units)", port, len(face.units))
    try:
        while not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), timeout=period_s)
            except TimeoutError:
                face.latest = line.step()
    finally:
        await server.shutdown()
        task.cancel()
