"""Modbus TCP source: polls holding / input registers in planned blocks, decodes typed values."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

from pymodbus.client import AsyncModbusTcpClient
from pymodbus.exceptions import ModbusException

from contracts.messages import Quality
from services.connectors.core.mapping import ModbusSource
from services.connectors.core.registers import ReadBlock, decode_block, explain_exception, plan_reads
from services.connectors.core.samples import SampleAssembler
from services.connectors.forwarder import Sink
from services.connectors.metrics import ConnectorMetrics
from services.connectors.pacing import sleep_unless

log = logging.getLogger("linewatch.connectors.modbus")


class ModbusRunner:
    """Polls one Modbus TCP device (all its unit ids) until ``stop`` is set."""

    protocol = "modbus"

    def __init__(self, cfg: ModbusSource, sink: Sink, metrics: ConnectorMetrics, seqs: dict[str, int]) -> None:
        self.cfg = cfg
        self.sink = sink
        self.metrics = metrics
        self.assembler = SampleAssembler("modbus", seqs)
        self.blocks = plan_reads(list(cfg.tags), cfg.max_registers_per_read)
        self._failing: set[tuple[int, str, int]] = set()

    async def run(self, stop: asyncio.Event) -> None:
        delay, connected_before = 1.0, False
        period = self.cfg.poll_interval_ms / 1000
        while not stop.is_set():
            client = AsyncModbusTcpClient(self.cfg.host, port=self.cfg.port, timeout=self.cfg.timeout_s, retries=0,
                                          reconnect_delay=0)
            try:
                if not await client.connect():
                    raise ConnectionError(f"no answer from {self.cfg.host}:{self.cfg.port}")
                if connected_before:
                    self.metrics.reconnects.labels(self.cfg.name).inc()
                connected_before, delay = True, 1.0
                self.metrics.connected.labels(self.cfg.name).set(1)
                while not stop.is_set():
                    began = asyncio.get_running_loop().time()
                    await self.poll_once(client)
                    spent = asyncio.get_running_loop().time() - began
                    await sleep_unless(stop, max(0.0, period - spent))
            except (TimeoutError, ConnectionError, ModbusException, OSError) as exc:
                self.metrics.errors.labels("modbus", "connect").inc()
                log.warning("%s: %r; reconnect in %.0fs", self.cfg.name, exc, delay)
            except Exception as exc:  # a bug or odd reply must not end the source for good
                self.metrics.errors.labels("modbus", "internal").inc()
                log.exception("%s: unexpected %r; reconnect in %.0fs", self.cfg.name, exc, delay)
            finally:
                self.metrics.connected.labels(self.cfg.name).set(0)
                client.close()
            if not stop.is_set():
                self.sink.emit("modbus", self.assembler.offline(sorted({t.machine for t in self.cfg.tags})))
                await sleep_unless(stop, delay)
                delay = min(delay * 2, 30.0)

    async def poll_once(self, client: AsyncModbusTcpClient) -> None:
        """Read every block once; a refused block (bad address) marks its tags bad, the others go on."""
        now = datetime.now(UTC)
        answered = 0
        for block in self.blocks:
            read = {"holding": client.read_holding_registers, "input": client.read_input_registers,
                    "coil": client.read_coils, "discrete": client.read_discrete_inputs}[block.table]
            response = await read(block.address, count=block.count, device_id=block.unit_id)
            if response.isError():
                code = int(getattr(response, "exception_code", 0) or 0)
                self._block_error(block, explain_exception(code) if code else str(response), now)
                continue
            answered += 1
            self._failing.discard((block.unit_id, block.table, block.address))
            bits = block.table in ("coil", "discrete")
            words = list(response.bits[:block.count]) if bits else list(response.registers)
            for tag, raw in decode_block(block, words):
                accepted = self.assembler.update(tag, raw, now, Quality.GOOD)
                self.metrics.tag_updates.labels("modbus", "accepted" if accepted else "deadband").inc()
        # TCP is up but no block answered (wrong unit_id, gateway target down): not connected to the device
        self.metrics.connected.labels(self.cfg.name).set(1 if answered else 0)
        self.sink.emit("modbus", self.assembler.flush(), self.assembler.events())

    def _block_error(self, block: ReadBlock, reason: str, now: datetime) -> None:
        self.metrics.errors.labels("modbus", "read").inc()
        key = (block.unit_id, block.table, block.address)
        if key not in self._failing:  # log once per failure streak, not every poll
            self._failing.add(key)
            log.error("%s: unit %d %s %d..%d refused: %s (tags: %s); other blocks continue",
                      self.cfg.name, block.unit_id, block.table, block.address, block.address + block.count - 1,
                      reason, ", ".join(f"{t.machine} {t.signal}" for t in block.tags))
        for tag in block.tags:
            self.assembler.update(tag, None, now, Quality.BAD)
