"""Sleeps that end early when the connector is told to stop (shared by the OPC UA and Modbus loops)."""

from __future__ import annotations

import asyncio


async def sleep_unless(stop: asyncio.Event, seconds: float) -> None:
    """Wait ``seconds`` or until ``stop`` is set, whichever comes first."""
    try:
        await asyncio.wait_for(stop.wait(), timeout=seconds)
    except TimeoutError:
        pass


async def sleep_unless_any(a: asyncio.Event, b: asyncio.Event, seconds: float) -> None:
    """Wait ``seconds`` or until ``a`` or ``b`` is set."""
    tasks = [asyncio.ensure_future(a.wait()), asyncio.ensure_future(b.wait())]
    await asyncio.wait(tasks, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    for t in tasks:
        t.cancel()
