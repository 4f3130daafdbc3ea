"""Start, stop and query a single-node KRaft Kafka broker built from Maven Central jars.

``scripts/kafka.sh`` resolves the jars (``mvn dependency:copy-dependencies``) and calls
this module; the test suite and ``linewatch demo`` call it directly. The broker binds to
127.0.0.1 on free ports, its state lives in one work folder (pid, ports, data, logs),
and it is stopped by its own pid, never by name.

``secure=True`` starts it with one SASL_SSL listener: a CA and broker/client certificates
made with ``openssl`` in ``<work>/tls`` (kept across restarts), SCRAM-SHA-512 users added
when the storage is formatted (``--add-scram``), and ``<work>/client.env`` (mode 0600) with
the ``LINEWATCH_KAFKA__*`` variables a LineWatch client needs. A PLAINTEXT listener is
added only when asked for (``plaintext_port``). See docs/kafka.md.
"""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from contracts.errors import BrokerError
from contracts.settings import KafkaSettings

ROOT = Path(__file__).resolve().parent.parent
BROKER_DIR = ROOT / "kafka-broker"
LIBS = BROKER_DIR / "libs"
DEFAULT_WORK = ROOT / ".kafka"

SERVER_PROPERTIES = """\
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=127.0.0.1:{controller_port}
listeners={listeners},CONTROLLER://127.0.0.1:{controller_port}
advertised.listeners={listeners},CONTROLLER://127.0.0.1:{controller_port}
inter.broker.listener.name={inter_broker}
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SASL_SSL:SASL_SSL
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

# The SASL_SSL listener: TLS from PEM files (KIP-651), SCRAM-SHA-512 logins. The broker's own
# connections use the "admin" user. The controller listener stays PLAINTEXT on 127.0.0.1 only:
# it carries KRaft metadata between this process and itself and serves no client requests.
SECURE_PROPERTIES = """\
sasl.enabled.mechanisms=SCRAM-SHA-512
sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512
listener.name.sasl_ssl.sasl.enabled.mechanisms=SCRAM-SHA-512
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule \\
  required username="{admin_user}" password="{admin_password}";
ssl.keystore.type=PEM
ssl.keystore.location={tls}/broker.pem
ssl.truststore.type=PEM
ssl.truststore.location={tls}/ca.crt
ssl.client.auth={client_auth}
ssl.endpoint.identification.algorithm=https
"""

ADMIN_USER = "admin"
DEFAULT_CLIENT_USER = "linewatch"
# Characters a SCRAM password may use here: they go into a JAAS string and --add-scram unescaped.
_PASSWORD_OK = re.compile(r'^[^"\\\s,\[\]=;]{12,}$')
_USER_OK = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


@dataclass
class BrokerInfo:
    pid: int
    bootstrap: str
    broker_port: int
    controller_port: int
    work: str
    started_s: float
    security_protocol: str = "PLAINTEXT"  # of ``bootstrap``: PLAINTEXT or SASL_SSL
    plaintext_bootstrap: str | None = None  # the extra PLAINTEXT listener of a secure broker, if asked for
    users: list[str] | None = None  # SCRAM-SHA-512 users (passwords are in client.env / credentials.json)

    @property
    def log_file(self) -> Path:
        return Path(self.work) / "logs" / "server.log"

    @property
    def tls_dir(self) -> Path:
        return Path(self.work) / "tls"

    @property
    def client_env_file(self) -> Path:
        return Path(self.work) / "client.env"

    def client_settings(self, user: str = DEFAULT_CLIENT_USER, **extra: Any) -> KafkaSettings:
        """Settings for a LineWatch client of this broker (SCRAM user ``user`` when secure)."""
        if self.security_protocol == "PLAINTEXT":
            return KafkaSettings(bootstrap_servers=self.bootstrap, **extra)
        return KafkaSettings(bootstrap_servers=self.bootstrap, security_protocol="SASL_SSL",
                             sasl_mechanism="SCRAM-SHA-512", sasl_username=user,
                             sasl_password=_credentials(Path(self.work))[user],
                             ssl_cafile=str(self.tls_dir / "ca.crt"), **extra)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]  # (host, port) for AF_INET; typeshed says Any
        return port


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


def wait_ready(bootstrap: str, timeout_s: float, proc: subprocess.Popen[bytes] | None = None,
               settings: KafkaSettings | None = None) -> None:
    """Poll an admin client until the broker answers (never parse logs).

    ``settings`` (TLS/SASL) are used when given; else a plaintext client on ``bootstrap``.
    """
    from kafka import KafkaAdminClient  # local import: status/stop need no client

    kw = (settings or KafkaSettings(bootstrap_servers=bootstrap)).client_kwargs()
    kw |= {"request_timeout_ms": 5000, "bootstrap_timeout_ms": 3000}
    deadline = time.monotonic() + timeout_s
    last: Exception | None = None
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise BrokerError(f"broker process exited with code {proc.returncode}")
        try:
            admin = KafkaAdminClient(**kw)
            admin.list_topics()
            admin.close()
            return
        except Exception as exc:  # noqa: BLE001 - any failure means "not yet"
            last = exc
            time.sleep(0.5)
    raise BrokerError(f"broker at {bootstrap} not ready after {timeout_s:.0f}s: {last}")


def _openssl(*args: str, cwd: Path) -> None:
    done = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        raise BrokerError(f"openssl {args[0]} failed: {done.stderr.strip()}")


def ensure_tls(tls: Path, days: int = 825) -> Path:
    """A private CA, a broker certificate (SAN 127.0.0.1, localhost) and a client certificate.

    Idempotent: files that exist are kept, so clients holding ``ca.crt`` stay valid across
    restarts. Keys are unencrypted PKCS#8 PEM, mode 0600. Needs the ``openssl`` command.
    """
    import shutil

    if shutil.which("openssl") is None:
        raise BrokerError("openssl is required for a TLS broker (Debian: apt-get install openssl)")
    tls.mkdir(parents=True, exist_ok=True)
    os.chmod(tls, 0o700)
    if not (tls / "ca.crt").exists() or not (tls / "ca.key").exists():
        _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt",
                 "-days", str(days), "-subj", "/CN=LineWatch local Kafka CA",
                 "-addext", "basicConstraints=critical,CA:TRUE",
                 "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=tls)
        for stale in ("broker.crt", "client.crt"):  # signed by a CA that is gone
            (tls / stale).unlink(missing_ok=True)
    for name, cn, san in (("broker", "localhost", "subjectAltName=IP:127.0.0.1,DNS:localhost\n"),
                          ("client", DEFAULT_CLIENT_USER, "")):
        if (tls / f"{name}.crt").exists() and (tls / f"{name}.key").exists():
            continue
        _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.csr",
                 "-subj", f"/CN={cn}", cwd=tls)
        (tls / f"{name}.ext").write_text(san + "extendedKeyUsage=serverAuth,clientAuth\n"
                                         "basicConstraints=CA:FALSE\n")
        _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
                 "-out", f"{name}.crt", "-days", str(days), "-sha256", "-extfile", f"{name}.ext", cwd=tls)
        (tls / f"{name}.csr").unlink()
        (tls / f"{name}.ext").unlink()
    # Kafka's PEM keystore: the private key followed by the certificate chain, in one file.
    (tls / "broker.pem").write_text((tls / "broker.key").read_text() + (tls / "broker.crt").read_text()
                                    + (tls / "ca.crt").read_text())
    for key in tls.glob("*.key"):
        os.chmod(key, 0o600)
    os.chmod(tls / "broker.pem", 0o600)
    return tls


def _credentials(work: Path) -> dict[str, str]:
    path = work / "credentials.json"
    return json.loads(path.read_text()) if path.exists() else {}


def _check_user(name: str, password: str) -> None:
    if not _USER_OK.match(name):
        raise BrokerError(f"SCRAM user name {name!r}: use 1-64 of A-Z a-z 0-9 . _ -")
    if not _PASSWORD_OK.match(password):
        raise BrokerError(f"password of SCRAM user {name!r}: at least 12 characters, none of "
                          "quote, backslash, space, comma, [ ] = ;")


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    os.chmod(path, 0o600)


def _client_env(info: BrokerInfo, user: str, password: str) -> str:
    tls = info.tls_dir
    return (f"# LineWatch client settings for the broker in {info.work} (SCRAM user {user}).\n"
            "# Load with: set -a; . ./client.env; set +a\n"
            f"LINEWATCH_KAFKA__BOOTSTRAP_SERVERS={info.bootstrap}\n"
            "LINEWATCH_KAFKA__SECURITY_PROTOCOL=SASL_SSL\n"
            "LINEWATCH_KAFKA__SASL_MECHANISM=SCRAM-SHA-512\n"
            f"LINEWATCH_KAFKA__SASL_USERNAME={user}\n"
            f"LINEWATCH_KAFKA__SASL_PASSWORD={password}\n"
            f"LINEWATCH_KAFKA__SSL_CAFILE={tls / 'ca.crt'}\n"
            f"# mutual TLS (brokers started with --mtls): LINEWATCH_KAFKA__SSL_CERTFILE={tls / 'client.crt'}"
            f" LINEWATCH_KAFKA__SSL_KEYFILE={tls / 'client.key'}\n")


def start(work: Path = DEFAULT_WORK, timeout_s: float = 120.0, broker_port: int | None = None, *,
          secure: bool = False, users: dict[str, str] | None = None, plaintext_port: int | None = None,
          mtls: bool = False) -> BrokerInfo:
    """Format fresh storage and start the broker; returns once it answers.

    Idempotent: if a broker recorded in ``work`` is alive, it is returned as is.

    ``secure``: one SASL_SSL listener on ``broker_port`` (SCRAM-SHA-512 over TLS); ``users``
    maps SCRAM user names to passwords (default: user ``linewatch`` with the password from
    ``LINEWATCH_KAFKA__SASL_PASSWORD``, else a random one). The broker's own ``admin`` user
    always gets a random password. ``plaintext_port`` (0: a free port) adds a PLAINTEXT
    listener next to it, only when asked. ``mtls`` also requires a client certificate.
    """
    work = Path(work).resolve()
    running = status(work)
    if running is not None:
        return running
    if not secure and (users or plaintext_port is not None or mtls):
        raise BrokerError("users, plaintext_port and mtls need secure=True")
    began = time.monotonic()
    data, logs = work / "data", work / "logs"
    work.mkdir(parents=True, exist_ok=True)
    bport, cport = broker_port or free_port(), free_port()
    props = work / "server.properties"
    scram: list[str] = []
    plain_bootstrap: str | None = None
    creds: dict[str, str] = {}
    if secure:
        env_password = os.environ.get("LINEWATCH_KAFKA__SASL_PASSWORD")
        creds = dict(users) if users else {DEFAULT_CLIENT_USER: env_password or secrets.token_urlsafe(24)}
        if ADMIN_USER in creds:
            raise BrokerError(f"user {ADMIN_USER!r} is the broker's own; pick another name")
        creds[ADMIN_USER] = secrets.token_urlsafe(24)
        for name, password in creds.items():
            _check_user(name, password)
            scram += ["--add-scram", f'SCRAM-SHA-512=[name={name},password="{password}"]']
        tls = ensure_tls(work / "tls")
        listeners = f"SASL_SSL://127.0.0.1:{bport}"
        if plaintext_port is not None:
            pport = plaintext_port or free_port()
            listeners += f",PLAINTEXT://127.0.0.1:{pport}"
            plain_bootstrap = f"127.0.0.1:{pport}"
        text = SERVER_PROPERTIES.format(listeners=listeners, inter_broker="SASL_SSL", controller_port=cport,
                                        data_dir=data)
        text += SECURE_PROPERTIES.format(admin_user=ADMIN_USER, admin_password=creds[ADMIN_USER], tls=tls,
                                         client_auth="required" if mtls else "none")
        _write_private(props, text)
        _write_private(work / "credentials.json", json.dumps(creds))
    else:
        props.write_text(SERVER_PROPERTIES.format(listeners=f"PLAINTEXT://127.0.0.1:{bport}",
                                                  inter_broker="PLAINTEXT", controller_port=cport, data_dir=data))
        (work / "credentials.json").unlink(missing_ok=True)
        (work / "client.env").unlink(missing_ok=True)
    if data.exists():
        subprocess.run(["rm", "-rf", str(data)], check=True)
    logs.mkdir(parents=True, exist_ok=True)
    cluster_id = new_cluster_id()
    java = _java_cmd(work)
    fmt = subprocess.run(java + ["kafka.tools.StorageTool", "format", "--standalone", "-t", cluster_id,
                                 "-c", str(props), *scram], capture_output=True, text=True, timeout=180)
    if fmt.returncode != 0:
        raise BrokerError(f"storage format failed: {fmt.stderr.strip() or fmt.stdout.strip()}")
    out = open(logs / "stdout.log", "ab")
    proc = subprocess.Popen(java + ["kafka.Kafka", str(props)], stdout=out, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, start_new_session=True)
    info = BrokerInfo(proc.pid, f"127.0.0.1:{bport}", bport, cport, str(work), 0.0,
                      security_protocol="SASL_SSL" if secure else "PLAINTEXT",
                      plaintext_bootstrap=plain_bootstrap,
                      users=sorted(n for n in creds if n != ADMIN_USER) if secure else None)
    probe = _probe_settings(info, mtls)
    try:
        wait_ready(info.bootstrap, timeout_s, proc, probe)
    except BrokerError as exc:
        _kill(proc.pid, 10)
        tail = _tail(logs / "server.log") or _tail(logs / "stdout.log")
        raise BrokerError(f"{exc}\n--- broker log tail ---\n{tail}") from exc
    info.started_s = round(time.monotonic() - began, 2)
    _state_file(work).write_text(json.dumps(asdict(info)))
    if secure:
        first = info.users[0] if info.users else ADMIN_USER
        _write_private(info.client_env_file, _client_env(info, first, creds[first]))
    return info


def _probe_settings(info: BrokerInfo, mtls: bool = False) -> KafkaSettings | None:
    """Readiness probe as the broker's admin user (TLS/SASL) or None for a plaintext broker."""
    if info.security_protocol == "PLAINTEXT":
        return None
    extra: dict[str, Any] = {}
    if mtls or "ssl.client.auth=required" in (Path(info.work) / "server.properties").read_text():
        extra = {"ssl_certfile": str(info.tls_dir / "client.crt"), "ssl_keyfile": str(info.tls_dir / "client.key")}
    return info.client_settings(ADMIN_USER, **extra)


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
    wait_ready(info.bootstrap, timeout_s, proc, _probe_settings(info))
    new = BrokerInfo(proc.pid, info.bootstrap, info.broker_port, info.controller_port, info.work,
                     round(time.monotonic() - began, 2), info.security_protocol, info.plaintext_bootstrap,
                     info.users)
    _state_file(work).write_text(json.dumps(asdict(new)))
    return new


def main(argv: list[str] | None = None) -> int:
    import argparse
    import sys

    parser = argparse.ArgumentParser(prog="python -m runtime.broker", description=__doc__)
    parser.add_argument("command", choices=["start", "stop", "status"])
    parser.add_argument("--work", type=Path, default=DEFAULT_WORK)
    parser.add_argument("--port", type=int, default=None, help="broker port (default: a free one)")
    parser.add_argument("--secure", action="store_true",
                        help="SASL_SSL listener (SCRAM-SHA-512 over TLS) with a generated CA; see docs/kafka.md")
    parser.add_argument("--user", default=DEFAULT_CLIENT_USER,
                        help="SCRAM user for clients (password: $LINEWATCH_KAFKA__SASL_PASSWORD, else random)")
    parser.add_argument("--plaintext-port", type=int, default=None,
                        help="with --secure: also a PLAINTEXT listener on this port (0: a free one)")
    parser.add_argument("--mtls", action="store_true", help="with --secure: require client certificates too")
    args = parser.parse_args(argv)
    try:
        if args.command == "start":
            users = None
            if args.secure:
                users = {args.user: os.environ.get("LINEWATCH_KAFKA__SASL_PASSWORD") or secrets.token_urlsafe(24)}
            elif args.plaintext_port is not None or args.mtls:
                raise BrokerError("--plaintext-port and --mtls need --secure")
            info = start(args.work, broker_port=args.port, secure=args.secure, users=users,
                         plaintext_port=args.plaintext_port, mtls=args.mtls)
            print(f"kafka running: pid={info.pid} bootstrap={info.bootstrap} "
                  f"protocol={info.security_protocol} start={info.started_s}s")
            if info.plaintext_bootstrap:
                print(f"plaintext listener: {info.plaintext_bootstrap}")
            if info.security_protocol != "PLAINTEXT":
                print(f"client settings: {info.client_env_file} (set -a; . {info.client_env_file}; set +a)")
        elif args.command == "stop":
            print("kafka stopped" if stop(args.work) else "kafka was not running")
        else:
            found = status(args.work)
            print(f"kafka running: pid={found.pid} bootstrap={found.bootstrap} protocol={found.security_protocol}"
                  if found else "kafka not running")
            return 0 if found else 3
    except BrokerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
