"""Run a PLC face of the simulated line: ``python -m simulators.plc opcua|sparkplug|modbus``.

By default the face serves the physics line of the plant file (``--plant``, default the
demo plant; ``--seed``, ``--start``, ``--speed`` simulated seconds per wall second): real
degradation, failures, idle/setup/down/maintenance states, exposed as tags. The physics-free
``SyntheticLine`` is only used with ``--synthetic`` (plant machines, sine/ramp values) or
``--grid MACHINESxSIGNALS`` (generic machines), for the connector tests and the benchmark.
Stops cleanly on SIGTERM / Ctrl-C.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
from datetime import UTC, datetime
from pathlib import Path

from contracts.plant import Plant, load_plant
from simulators.plc.lines import LatestSamples, PacedLine, SyntheticLine

DEMO_PLANT = Path(__file__).resolve().parent.parent / "plants" / "demo.yaml"
log = logging.getLogger("linewatch.plc")


def _start(text: str) -> datetime:
    from simulators.physics.line import DEFAULT_START
    if not text:
        return DEFAULT_START
    if text == "now":  # the current wall-clock minute
        return datetime.now(UTC).replace(second=0, microsecond=0)
    ts = datetime.fromisoformat(text)
    return ts if ts.tzinfo else ts.replace(tzinfo=UTC)


def build_line(args: argparse.Namespace) -> LatestSamples:
    """The line the face serves: the physics line unless ``--synthetic`` / ``--grid``."""
    if args.grid:
        machines, signals = (int(x) for x in args.grid.lower().split("x"))
        return SyntheticLine.grid(machines, signals, args.pattern, args.period)
    plant = load_plant(args.plant)
    chosen = args.machines.split(",") if args.machines else None
    if chosen:
        unknown = sorted(set(chosen) - {m.id for m in plant.machines()})
        if unknown:
            raise SystemExit(f"--machines: not in plant {plant.id!r}: {', '.join(unknown)}")
    if args.synthetic:
        return SyntheticLine.from_plant(plant, args.pattern, args.period, chosen)
    from simulators.physics.line import Line
    from simulators.physics.sensors import FaultRates
    if chosen:  # each machine has its own generator: a subset gives the same values as the whole plant
        data = plant.model_dump()
        data["lines"] = [{**ln, "machines": [m for m in ln["machines"] if m["id"] in chosen]}
                         for ln in data["lines"] if any(m["id"] in chosen for m in ln["machines"])]
        plant = Plant.model_validate(data)
    line = Line(plant, seed=args.seed, start=_start(args.start), faults=FaultRates.off() if args.no_faults else None)
    return PacedLine(line, args.speed * args.period)


async def _sparkplug(args: argparse.Namespace, line: LatestSamples, stop: asyncio.Event) -> None:
    """One edge node per production line (Sparkplug edge node = line, device = machine), all fed
    from ONE line stepped once per period, so the lines share one simulated clock."""
    from simulators.plc.sparkplug_face import SparkplugEdgeNode
    latest = line.step()
    while len(latest) < len(line.machine_ids()):  # births carry values: wait for every machine's first sample
        latest = line.step()
    lines: dict[str, list[str]] = {}
    for mid in line.machine_ids():
        lines.setdefault(mid.split("/")[0], []).append(mid)
    nodes = [SparkplugEdgeNode(line, args.host, args.port, args.group, lid, args.period, machines=mids,
                               latest=latest).start(drive=False) for lid, mids in lines.items()]
    try:
        while True:
            try:
                await asyncio.wait_for(stop.wait(), timeout=args.period)
                return
            except TimeoutError:
                latest = line.step()
            for node in nodes:
                if node.client.is_connected():
                    node.publish_data(latest)
    finally:
        for node in nodes:
            node.stop()


async def _serve(args: argparse.Namespace, line: LatestSamples) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    if args.face == "opcua":
        from simulators.plc import opcua_face
        user = tuple(args.user.split(":", 1)) if args.user else None
        await opcua_face.serve(line, args.port, args.period, stop, max_items_per_call=args.max_items_per_call,
                               certificate=args.certificate, private_key=args.private_key, user=user)
    elif args.face == "modbus":
        from simulators.plc import modbus_face
        await modbus_face.serve(line, args.port, args.period, stop)
    else:
        await _sparkplug(args, line, stop)


def parser() -> argparse.ArgumentParser:
    """The command line (also used by the docs test of the options)."""
    p = argparse.ArgumentParser(prog="python -m simulators.plc", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("face", choices=["opcua", "sparkplug", "modbus"])
    p.add_argument("--port", type=int, required=True, help="server port (sparkplug: the MQTT broker's port)")
    p.add_argument("--host", default="127.0.0.1", help="sparkplug: MQTT broker host")
    p.add_argument("--group", default="linewatch", help="sparkplug: group id")
    p.add_argument("--plant", type=Path, default=DEMO_PLANT)
    p.add_argument("--machines", default="", help="comma-separated machine ids (default: all)")
    p.add_argument("--period", type=float, default=1.0, help="wall seconds between face updates")
    physics = p.add_argument_group("physics line (default)")
    physics.add_argument("--seed", type=int, default=7)
    physics.add_argument("--speed", type=float, default=60.0,
                         help="simulated seconds per wall second (60: one 60 s sample per second)")
    physics.add_argument("--start", default="", help="simulated start, ISO 8601 or 'now' (default 2026-01-05T00:00Z)")
    physics.add_argument("--no-faults", action="store_true", help="no sensor faults (dropouts, stuck, spikes)")
    synthetic = p.add_argument_group("synthetic line (connector tests, benchmark)")
    synthetic.add_argument("--synthetic", action="store_true", help="physics-free values for the plant's machines")
    synthetic.add_argument("--grid", default="", help="MACHINESxSIGNALS generic synthetic line instead of the plant")
    synthetic.add_argument("--pattern", choices=["wave", "ramp"], default="wave")
    opcua = p.add_argument_group("opcua")
    opcua.add_argument("--max-items-per-call", type=int, default=0, help="advertised MaxMonitoredItemsPerCall")
    opcua.add_argument("--certificate", type=Path, default=None, help="server certificate (enables security)")
    opcua.add_argument("--private-key", type=Path, default=None)
    opcua.add_argument("--user", default="", help="require USER:PASSWORD")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.speed <= 0 or args.period <= 0:
        raise SystemExit("--speed and --period must be > 0")
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    asyncio.run(_serve(args, build_line(args)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
