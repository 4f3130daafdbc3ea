"""Run a PLC face of the simulated line: ``python -m simulators.plc opcua|sparkplug|modbus``.

Machines come from the plant file (``--plant``, default the demo plant) or a generic
grid (``--grid MACHINESxSIGNALS``, for benchmarks). Stops cleanly on SIGTERM / Ctrl-C.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
from pathlib import Path

from contracts.plant import load_plant
from simulators.plc.lines import SyntheticLine

DEMO_PLANT = Path(__file__).resolve().parent.parent / "plants" / "demo.yaml"


def build_line(args: argparse.Namespace) -> SyntheticLine:
    if args.grid:
        machines, signals = (int(x) for x in args.grid.lower().split("x"))
        return SyntheticLine.grid(machines, signals, args.pattern, args.period)
    machines = args.machines.split(",") if args.machines else None
    return SyntheticLine.from_plant(load_plant(args.plant), args.pattern, args.period, machines)


async def _serve(args: argparse.Namespace, line: SyntheticLine) -> None:
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
        from simulators.plc.sparkplug_face import SparkplugEdgeNode
        nodes = [SparkplugEdgeNode(SyntheticLine({m: line.signals(m) for m in line.machine_ids()
                                                  if m.startswith(lid + "/")}, args.pattern, period_s=args.period),
                                   args.host, args.port, args.group, lid, args.period).start()
                 for lid in sorted({m.split("/")[0] for m in line.machine_ids()})]
        await stop.wait()
        for node in nodes:
            node.stop()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m simulators.plc", description=__doc__)
    p.add_argument("face", choices=["opcua", "sparkplug", "modbus"])
    p.add_argument("--port", type=int, required=True, help="server port (sparkplug: the MQTT broker's port)")
    p.add_argument("--host", default="127.0.0.1", help="sparkplug: MQTT broker host")
    p.add_argument("--group", default="linewatch", help="sparkplug: group id")
    p.add_argument("--plant", type=Path, default=DEMO_PLANT)
    p.add_argument("--machines", default="", help="comma-separated machine ids (default: all)")
    p.add_argument("--grid", default="", help="MACHINESxSIGNALS generic line instead of the plant")
    p.add_argument("--pattern", choices=["wave", "ramp"], default="wave")
    p.add_argument("--period", type=float, default=1.0, help="seconds between samples")
    p.add_argument("--max-items-per-call", type=int, default=0, help="opcua: advertised MaxMonitoredItemsPerCall")
    p.add_argument("--certificate", type=Path, default=None, help="opcua: server certificate (enables security)")
    p.add_argument("--private-key", type=Path, default=None)
    p.add_argument("--user", default="", help="opcua: require USER:PASSWORD")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    asyncio.run(_serve(args, build_line(args)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
