"""Start, stop and query a single-node KRaft Kafka broker built from Maven Central jars.

``scripts/kafka.sh`` resolves the jars (``mvn dependency:copy-dependencies``) and calls
this module; the test suite and ``linewatch demo`` call it directly. The broker binds to
127.0.0.1 on free ports, its state lives in one work folder (pid, ports, data, logs),
and it is stopped by its own pid, never by name.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import socket
import subprocess
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

from contracts.errors import BrokerError

ROOT = Path(__file__).resolve().parent.parent
BROKER_DIR = ROOT / "kafka-broker"
LIBS = BROKER_DIR / "libs"
DEFAULT_WORK = ROOT / ".kafka"

SERVER_PROPERTIES = """\
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=127.0.0.1:{controller_port}
listeners=PLAINTEXT://127.0.0.1:{broker_port},CONTROLLER://127.0.0.1:{controller_port}
advertised.listeners=PLAINTEXT://127.0.0.1:{broker_port},CONTROLLER://127.0.0.1:{controller_port}
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs={data_dir}
num.partitions=1
default.replication.factor=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
log.retention.hours=168
"""


@dataclass
class BrokerInfo:
    pid: int
    bootstrap: str
    broker_port: int
    controller_port: int
    work: str
    started_s: float

    @property
    def log_file(self) -> Path:
        return Path(self.work) / "logs" / "server.log"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def new_cluster_id() -> str:
    """A KRaft cluster id: 16 random bytes, URL-safe base64 without padding (22 chars).

    Ids starting with ``-`` are redrawn: the storage tool would read one as an option.
    """
    while True:
        cid = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
        if not cid.startswith("-"):
            return cid


def _java_cmd(work: Path) -> list[str]:
    if not LIBS.is_dir() or not any(LIBS.glob("kafka_2.13-*.jar")):
        raise BrokerError(f"Kafka jars missing in {LIBS}: run `scripts/kafka.sh install` (needs Maven).")
    return [
        "java", "-Xms256m", "-Xmx512m", "-XX:+UseG1GC", "-Djava.awt.headless=true",
        f"-Dlog4j2.configurationFile={BROKER_DIR / 'log4j2.properties'}",
        f"-Dkafka.logs.dir={work / 'logs'}", "-cp", str(LIBS / "*"),
    ]


def _state_file(work: Path) -> Path:
    return work / "broker.json"


def status(work: Path = DEFAULT_WORK) -> BrokerInfo | None:
    """The running broker recorded in ``work``, or None if none is alive there."""
    path = _state_file(work)
    if not path.exists():
        return None
    info = BrokerInfo(**json.loads(path.read_text()))
    try:
        os.kill(info.pid, 0)
    except ProcessLookupError:
        return None
    return info


def wait_ready(bootstrap: str, timeout_s: float, proc: subprocess.Popen | None = None) -> None:
    """Poll an admin client until the broker answers (never parse logs)."""
    from kafka import KafkaAdminClient  # local import: status/stop need no client

    deadline = time.monotonic() + timeout_s
    last: Exception | None = None
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise BrokerError(f"broker process exited with code {proc.returncode}")
        try:
            admin = KafkaAdminClient(bootstrap_servers=bootstrap, bootstrap_timeout_ms=3000)
            admin.list_topics()
            admin.close()
            return
        except Exception as exc:  # noqa: BLE001 - any failure means "not yet"
            last = exc
            time.sleep(0.5)
    raise BrokerError(f"broker at {bootstrap} not ready after {timeout_s:.0f}s: {last}")


def start(work: Path = DEFAULT_WORK, timeout_s: float = 120.0, broker_port: int | None = None) -> BrokerInfo:
    """Format fresh storage and start the broker; returns once it answers.

    Idempotent: if a broker recorded in ``work`` is alive, it is returned as is.
    """
    work = Path(work).resolve()
    running = status(work)
    if running is not None:
        return running
    began = time.monotonic()
    data, logs = work / "data", work / "logs"
    if data.exists():
        subprocess.run(["rm", "-rf", str(data)], check=True)
    logs.mkdir(parents=True, exist_ok=True)
    bport, cport = broker_port or free_port(), free_port()
    props = work / "server.properties"
    props.write_text(SERVER_PROPERTIES.format(broker_port=bport, controller_port=cport, data_dir=data))
    cluster_id = new_cluster_id()
    java = _java_cmd(work)
    fmt = subprocess.run(java + ["kafka.tools.StorageTool", "format", "--standalone", "-t", cluster_id,
                                 "-c", str(props)], capture_output=True, text=True, timeout=180)
    if fmt.returncode != 0:
        raise BrokerError(f"storage format failed: {fmt.stderr.strip() or fmt.stdout.strip()}")
    out = open(logs / "stdout.log", "ab")
    proc = subprocess.Popen(java + ["kafka.Kafka", str(props)], stdout=out, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, start_new_session=True)
    bootstrap = f"127.0.0.1:{bport}"
    try:
        wait_ready(bootstrap, timeout_s, proc)
    except BrokerError as exc:
        _kill(proc.pid, 10)
        tail = _tail(logs / "server.log") or _tail(logs / "stdout.log")
        raise BrokerError(f"{exc}\n--- broker log tail ---\n{tail}") from exc
    info = BrokerInfo(proc.pid, bootstrap, bport, cport, str(work), round(time.monotonic() - began, 2))
    _state_file(work).write_text(json.dumps(asdict(info)))
    return info


def _tail(path: Path, lines: int = 30) -> str:
    if not path.exists():
        return ""
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def _kill(pid: int, grace_s: float) -> None:
    try:
        os.kill(pid, signal.SIGTERM)  # controlled shutdown
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        try:  # reap if it is our child
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass
        time.sleep(0.2)
    try:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    except (ProcessLookupError, ChildProcessError):
        pass


def stop(work: Path = DEFAULT_WORK, grace_s: float = 30.0) -> bool:
    """Stop the broker recorded in ``work`` by its pid. Returns False if none ran."""
    work = Path(work).resolve()
    info = status(work)
    _state_file(work).unlink(missing_ok=True)
    if info is None:
        return False
    _kill(info.pid, grace_s)
    return True


def restart_same_ports(info: BrokerInfo, timeout_s: float = 120.0) -> BrokerInfo:
    """Stop and start the broker again on the same ports and data (for fault tests)."""
    _kill(info.pid, 30)
    work = Path(info.work)
    logs = work / "logs"
    out = open(logs / "stdout.log", "ab")
    began = time.monotonic()
    proc = subprocess.Popen(_java_cmd(work) + ["kafka.Kafka", str(work / "server.properties")], stdout=out,
                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    wait_ready(info.bootstrap, timeout_s, proc)
    new = BrokerInfo(proc.pid, info.bootstrap, info.broker_port, info.controller_port, info.work,
                     round(time.monotonic() - began, 2))
    _state_file(work).write_text(json.dumps(asdict(new)))
    return new


def main(argv: list[str] | None = None) -> int:
    import argparse
    import sys

    parser = argparse.ArgumentParser(prog="python -m runtime.broker", description=__doc__)
    parser.add_argument("command", choices=["start", "stop", "status"])
    parser.add_argument("--work", type=Path, default=DEFAULT_WORK)
    parser.add_argument("--port", type=int, default=None, help="broker port (default: a free one)")
    args = parser.parse_args(argv)
    try:
        if args.command == "start":
            info = start(args.work, broker_port=args.port)
            print(f"kafka running: pid={info.pid} bootstrap={info.bootstrap} start={info.started_s}s")
        elif args.command == "stop":
            print("kafka stopped" if stop(args.work) else "kafka was not running")
        else:
            info = status(args.work)
            print(f"kafka running: pid={info.pid} bootstrap={info.bootstrap}" if info else "kafka not running")
            return 0 if info else 3
    except BrokerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
