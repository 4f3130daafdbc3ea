"""OPC UA face of the simulated line: one object per machine, one variable per signal.

Address space (OPC 40501-like): ``Objects/Machines/<line>.<machine>/Monitoring/<signal>``;
variable node ids are readable strings ``ns=2;s=<line>/<machine>/<signal>``, so a mapping
file can be written without browsing. Values carry the sample time as SourceTimestamp.
Each machine also has ``ns=2;s=<line>/<machine>/machine_state`` (Int32, ``lines.STATE_CODES``:
0 idle, 1 running, 2 down, 3 setup, 4 maintenance). A machine is written only when its
sample time changed (a paced physics line returns the same sample between two ticks).
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from asyncua import Server, ua
from asyncua.crypto.permission_rules import SimpleRoleRuleset, User, UserRole
from asyncua.server.user_managers import UserManager

from simulators.plc.lines import STATE_TAG, LatestSamples, state_code

NAMESPACE = "urn:linewatch:simulator"
log = logging.getLogger("linewatch.plc.opcua")


def node_id(machine_id: str, signal: str) -> str:
    """Node id string of one signal's variable (namespace index 2 on this server)."""
    return f"ns=2;s={machine_id}/{signal}"


class _Users(UserManager):
    """Accepts exactly one user/password pair (when the face is started with one)."""

    def __init__(self, username: str, password: str) -> None:
        self._pair = (username, password)

    def get_user(self, iserver, username=None, password=None, certificate=None):
        if username is None and certificate is not None:
            return User(role=UserRole.User)
        if (username, password) == self._pair:
            return User(role=UserRole.User)
        return None


async def build_server(line: LatestSamples, port: int, *, max_items_per_call: int = 0,
                       certificate: Path | None = None, private_key: Path | None = None,
                       user: tuple[str, str] | None = None) -> tuple[Server, dict[tuple[str, str], ua.NodeId]]:
    """Create (not start) the server and its address space; returns it and the variable ids."""
    server = Server(user_manager=_Users(*user) if user else None)
    await server.init()
    server.set_endpoint(f"opc.tcp://127.0.0.1:{port}/linewatch/")
    server.set_server_name("LineWatch simulated line")
    if certificate and private_key:
        await server.load_certificate(str(certificate))
        await server.load_private_key(str(private_key))
        server.set_security_policy([ua.SecurityPolicyType.Basic256Sha256_Sign,
                                    ua.SecurityPolicyType.Basic256Sha256_SignAndEncrypt],
                                   permission_ruleset=SimpleRoleRuleset())
    else:
        server.set_security_policy([ua.SecurityPolicyType.NoSecurity])
    idx = await server.register_namespace(NAMESPACE)
    machines = await server.nodes.objects.add_folder(ua.NodeId("Machines", idx), ua.QualifiedName("Machines", idx))
    variables: dict[tuple[str, str], ua.NodeId] = {}
    for mid in line.machine_ids():
        obj = await machines.add_object(ua.NodeId(mid, idx), ua.QualifiedName(mid.replace("/", "."), idx))
        monitoring = await obj.add_folder(ua.NodeId(f"{mid}/Monitoring", idx), ua.QualifiedName("Monitoring", idx))
        for signal in line.signals(mid):
            var = await monitoring.add_variable(ua.NodeId(f"{mid}/{signal}", idx), ua.QualifiedName(signal, idx),
                                                ua.Variant(0.0, ua.VariantType.Double))
            variables[(mid, signal)] = var.nodeid
        state = await obj.add_variable(ua.NodeId(f"{mid}/{STATE_TAG}", idx), ua.QualifiedName(STATE_TAG, idx),
                                       ua.Variant(0, ua.VariantType.Int32))
        variables[(mid, STATE_TAG)] = state.nodeid
    if max_items_per_call:
        limit = ua.NodeId(ua.ObjectIds.Server_ServerCapabilities_OperationLimits_MaxMonitoredItemsPerCall, 0)
        await server.write_attribute_value(limit, ua.DataValue(ua.Variant(max_items_per_call, ua.VariantType.UInt32)))
    return server, variables


async def publish(server: Server, variables: dict[tuple[str, str], ua.NodeId], line: LatestSamples,
                  last_ts: dict | None = None) -> int:
    """Write one step of the line into the address space; returns the values written.

    ``last_ts`` (machine -> sample time already written), when given, skips unchanged machines.
    """
    written = 0
    for mid, sample in line.step().items():
        if last_ts is not None:
            if last_ts.get(mid) == sample.ts:
                continue
            last_ts[mid] = sample.ts
        state_id = variables.get((mid, STATE_TAG))
        if state_id is not None:
            await server.write_attribute_value(state_id, ua.DataValue(
                ua.Variant(state_code(sample), ua.VariantType.Int32), SourceTimestamp=sample.ts,
                ServerTimestamp=sample.ts))
        for signal, value in sample.signals.items():
            nid = variables.get((mid, signal))
            if nid is None:
                continue
            status = ua.StatusCode(ua.StatusCodes.Good if value is not None else ua.StatusCodes.BadSensorFailure)
            dv = ua.DataValue(ua.Variant(float(value) if value is not None else 0.0, ua.VariantType.Double),
                              StatusCode=status, SourceTimestamp=sample.ts,
                              ServerTimestamp=sample.ts)
            await server.write_attribute_value(nid, dv)
            written += 1
    return written


async def serve(line: LatestSamples, port: int, period_s: float, stop: asyncio.Event, **options) -> None:
    """Run the face until ``stop`` is set."""
    server, variables = await build_server(line, port, **options)
    async with server:
        log.info("OPC UA face on opc.tcp://127.0.0.1:%d/linewatch/ (%d variables)", port, len(variables))
        last_ts: dict = {}
        while not stop.is_set():
            await publish(server, variables, line, last_ts)
            try:
                await asyncio.wait_for(stop.wait(), timeout=period_s)
            except TimeoutError:
                pass
