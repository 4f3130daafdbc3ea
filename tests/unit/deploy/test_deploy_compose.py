"""docker-compose.yml and the Dockerfile, without a Docker engine: the Compose v2 binary
(`config`), the Compose specification schema (check-jsonschema), and what the pilot box
promises (health-gated start order, no committed secrets, every service scraped)."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from _deploytools import ROOT, run

COMPOSE = ROOT / "docker-compose.yml"
SECRETS = {"POSTGRES_PASSWORD": "pg-test", "GRAFANA_ADMIN_PASSWORD": "gf-test", "LINEWATCH_READER_PASSWORD": "ro",
           "LINEWATCH_TOKEN_PEPPER": "p" * 32}
LINEWATCH_WORKERS = {"simulator": 9402, "score": 9400, "persist": 9401, "connect": 9403, "archive": 9404}
CORE = {"kafka", "kafka-topics", "postgres", "simulator", "score", "persist", "archive", "api", "prometheus",
        "grafana"}


def config(compose_bin: Path, *args: str, env: dict[str, str] | None = None):
    return run([compose_bin, "-f", COMPOSE, "--project-directory", ROOT, *args],
               env=SECRETS if env is None else env)


@pytest.fixture(scope="module")
def model(compose_bin: Path) -> dict[str, Any]:
    """The normalised model with every profile active (compose config --format json)."""
    out = config(compose_bin, "--profile", "connectors", "--profile", "edge", "--profile", "tools",
                 "config", "--format", "json")
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def raw() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text())


def test_compose_binary_accepts_the_file(compose_bin: Path) -> None:
    out = config(compose_bin, "config", "-q")
    assert out.returncode == 0, out.stderr


def test_compose_binary_rejects_an_invalid_file(compose_bin: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text(COMPOSE.read_text().replace("    hostname: kafka\n", "    hostname: kafka\n    bogus: 1\n"))
    out = run([compose_bin, "-f", bad, "--project-directory", ROOT, "config", "-q"], env=SECRETS)
    assert out.returncode != 0 and "bogus" in out.stderr


def test_compose_file_matches_the_compose_specification() -> None:
    out = run([ROOT / ".venv" / "bin" / "check-jsonschema", "--builtin-schema", "vendor.compose-spec", COMPOSE])
    assert out.returncode == 0, out.stdout + out.stderr


@pytest.mark.parametrize("missing", sorted(SECRETS))
def test_required_secrets_fail_fast_with_a_message(compose_bin: Path, missing: str) -> None:
    env = {k: v for k, v in SECRETS.items() if k != missing}
    out = config(compose_bin, "config", "-q", env=env)
    assert out.returncode != 0
    assert f"set {missing} in .env" in out.stderr


def test_no_secret_is_committed() -> None:
    envs = {"x-linewatch-env": raw()["x-linewatch-env"]} | {n: s.get("environment", {})
                                                             for n, s in raw()["services"].items()}
    for name, env in envs.items():
        for key, value in env.items():
            if key.endswith("_FILE"):  # a path to a mounted secret file, optional
                assert re.fullmatch(r"\$\{[A-Z_]+:-\}", str(value)), f"{name}.{key} must be ${{VAR:-}}"
            elif re.search(r"PASSWORD|SECRET|TOKEN", key):
                assert re.fullmatch(r"\$\{[A-Z_]+:\?[^}]+\}", str(value)), f"{name}.{key} must be ${{VAR:?msg}}"


def test_profiles_select_the_right_services(compose_bin: Path) -> None:
    def services(*profiles: str) -> set[str]:
        args = [a for p in profiles for a in ("--profile", p)]
        out = config(compose_bin, *args, "config", "--services")
        assert out.returncode == 0, out.stderr
        return set(out.stdout.split())
    assert services() == CORE
    assert services("connectors") == CORE | {"connect"}
    assert services("edge") == CORE | {"connect", "edge-uplink"}


def test_start_order_is_gated_on_health(model: dict[str, Any]) -> None:
    s = model["services"]
    assert s["kafka"]["image"] == "apache/kafka:4.3.1" and s["kafka"]["healthcheck"]["test"]
    assert s["kafka-topics"]["depends_on"]["kafka"]["condition"] == "service_healthy"
    for name in ("simulator", "score", "persist", "archive", "api", "connect"):
        assert s[name]["depends_on"]["kafka-topics"]["condition"] == "service_completed_successfully", name
    for name in ("persist", "api", "grafana"):
        assert s[name]["depends_on"]["postgres"]["condition"] == "service_healthy", name
    assert s["edge-uplink"]["depends_on"]["kafka"]["condition"] == "service_healthy"


def test_linewatch_containers_are_locked_down(model: dict[str, Any]) -> None:
    services = model["services"]
    ours = {n: s for n, s in services.items() if s["image"].startswith("linewatch:")}
    assert set(ours) == {"kafka-topics", "train", *LINEWATCH_WORKERS, "api"}
    for name, s in ours.items():
        assert s["user"] == "10001:10001" and s["read_only"] is True, name
        assert s["cap_drop"] == ["ALL"] and "no-new-privileges:true" in s["security_opt"], name
        assert "/tmp" in s["tmpfs"], name
        env = s["environment"]
        assert env["LINEWATCH_KAFKA__BOOTSTRAP_SERVERS"] == "kafka:19092", name
        assert env["LINEWATCH_STORE__PASSWORD"] == SECRETS["POSTGRES_PASSWORD"], name
    for name, port in LINEWATCH_WORKERS.items():
        assert services[name]["environment"]["LINEWATCH_METRICS_PORT"] == str(port), name
    assert services["api"]["environment"]["LINEWATCH_TOKEN_PEPPER"] == SECRETS["LINEWATCH_TOKEN_PEPPER"]
    assert services["api"]["command"][:3] == ["serve", "--host", "0.0.0.0"], "bind beyond the container's loopback"
    # the connector binds 127.0.0.1 by default; in a container its /metrics must be reachable
    assert services["connect"]["environment"]["LINEWATCH_CONNECTOR__METRICS_HOST"] == "0.0.0.0"


def test_kafka_cluster_id_is_a_valid_kraft_id(model: dict[str, Any]) -> None:
    cid = model["services"]["kafka"]["environment"]["CLUSTER_ID"]
    assert len(cid) == 22 and len(base64.urlsafe_b64decode(cid + "==")) == 16


def test_prometheus_scrapes_every_linewatch_service() -> None:
    prom = yaml.safe_load((ROOT / "deploy" / "prometheus" / "prometheus.yml").read_text())
    targets = set()
    for job in prom["scrape_configs"]:
        targets |= {t for sc in job.get("static_configs", []) for t in sc["targets"]}
        targets |= {f"{n}:{sd['port']}" for sd in job.get("dns_sd_configs", []) for n in sd["names"]}
    expected = {f"{name}:{port}" for name, port in LINEWATCH_WORKERS.items()} | {"api:8000"}
    assert expected <= targets
    assert prom["rule_files"] == ["/etc/prometheus/rules.yml"]


def test_ports_agree_with_the_architecture_doc() -> None:
    doc = (ROOT / "docs" / "architecture.md").read_text()
    documented = {m.group(1): int(m.group(2)) for m in re.finditer(r"`linewatch (\w+)`[^|]*\|[^|]*\|\s*(\d{4})", doc)}
    command_of = {"simulator": "simulate", "score": "score", "persist": "persist", "archive": "archive",
                  "connect": "connect"}
    for service, port in LINEWATCH_WORKERS.items():
        assert documented[command_of[service]] == port, service
    assert documented["serve"] == 8000


def test_edge_uplink_refuses_to_start_without_a_central_cluster(tmp_path: Path) -> None:
    out = run(["sh", ROOT / "deploy" / "edge" / "edge-uplink.sh"], env={"LINEWATCH_CENTRAL_BOOTSTRAP": ""})
    assert out.returncode == 2 and "LINEWATCH_CENTRAL_BOOTSTRAP" in out.stderr


KAFKA_CLIENT_MOUNT = {"type": "bind", "target": "/etc/linewatch/kafka", "read_only": True}


def test_kafka_security_reaches_every_kafka_client_container(model: dict[str, Any]) -> None:
    """Every LineWatch container and the uplink get the Kafka settings and the secrets folder, read-only."""
    services = model["services"]
    clients = {n for n, s in services.items() if s["image"].startswith("linewatch:")} | {"edge-uplink"}
    for name in clients:
        mounts = [v for v in services[name].get("volumes", []) if v.get("target") == "/etc/linewatch/kafka"]
        assert len(mounts) == 1, name
        assert {k: mounts[0][k] for k in KAFKA_CLIENT_MOUNT} == KAFKA_CLIENT_MOUNT, name
        assert mounts[0]["source"] == str(ROOT / "deploy" / "kafka-client"), name
        if name != "edge-uplink":
            assert services[name]["environment"]["LINEWATCH_KAFKA__SECURITY_PROTOCOL"] == "PLAINTEXT", name
    assert (ROOT / "deploy" / "kafka-client" / "README.md").exists()


def linewatch_env(compose_bin: Path, extra: dict[str, str]) -> dict[str, str]:
    out = config(compose_bin, "config", "--format", "json", env={**SECRETS, **extra})
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)["services"]["score"]["environment"]


def test_compose_kafka_settings_load_into_the_settings_piece(compose_bin: Path, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """What compose hands a container is what LineWatchSettings reads: defaults load as plaintext
    (empty values are unset), and the .env TLS/SASL lines give a SASL_SSL client with the password
    from the mounted file."""
    from runtime.settings import LineWatchSettings

    def load(env: dict[str, str]):
        for key in [k for k in __import__("os").environ if k.startswith("LINEWATCH_")]:
            monkeypatch.delenv(key)
        for key, value in env.items():
            if key.startswith("LINEWATCH_KAFKA__"):
                monkeypatch.setenv(key, value.replace("/etc/linewatch/kafka", str(tmp_path)))
        return LineWatchSettings().kafka

    plain = load(linewatch_env(compose_bin, {}))
    assert (plain.security_protocol, plain.sasl_mechanism, plain.ssl_cafile) == ("PLAINTEXT", None, None)
    (tmp_path / "password").write_text("from-a-secret-file\n")
    secure = load(linewatch_env(compose_bin, {
        "LINEWATCH_KAFKA_BOOTSTRAP": "kafka.plant.example:9093", "LINEWATCH_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
        "LINEWATCH_KAFKA_SASL_MECHANISM": "SCRAM-SHA-512", "LINEWATCH_KAFKA_SASL_USERNAME": "linewatch",
        "LINEWATCH_KAFKA_SASL_PASSWORD_FILE": "/etc/linewatch/kafka/password",
        "LINEWATCH_KAFKA_SSL_CAFILE": "/etc/linewatch/kafka/ca.crt"}))
    kw = secure.client_kwargs()
    assert kw["bootstrap_servers"] == ["kafka.plant.example:9093"] and kw["security_protocol"] == "SASL_SSL"
    assert kw["sasl_plain_username"] == "linewatch" and kw["sasl_plain_password"] == "from-a-secret-file"
    assert kw["ssl_cafile"] == str(tmp_path / "ca.crt")


def uplink(tmp_path: Path, *args: str, **env: str):
    base = {"LINEWATCH_UPLINK_PROPERTIES": str(ROOT / "deploy" / "edge" / "mirror-maker.properties"),
            "LINEWATCH_UPLINK_OUT": str(tmp_path / "mm2.properties"), "LINEWATCH_CENTRAL_BOOTSTRAP": "central:9093"}
    return run(["sh", ROOT / "deploy" / "edge" / "edge-uplink.sh", *args], env={**base, **env})


def test_edge_uplink_is_sasl_ssl_by_default_and_refuses_missing_credentials(tmp_path: Path) -> None:
    out = uplink(tmp_path)
    assert out.returncode == 2 and "LINEWATCH_CENTRAL_SASL_USERNAME" in out.stderr
    out = uplink(tmp_path, LINEWATCH_CENTRAL_SASL_USERNAME="edge1",
                 LINEWATCH_CENTRAL_SASL_PASSWORD_FILE=str(tmp_path / "missing"))
    assert out.returncode == 2 and "password file" in out.stderr
    assert not (tmp_path / "mm2.properties").exists(), "nothing is written before every check passed"
    (tmp_path / "pw").write_text("s3cret-central\n")
    (tmp_path / "ca.crt").write_text("-----BEGIN CERTIFICATE-----\n")
    out = uplink(tmp_path, "--print-config", LINEWATCH_CENTRAL_SASL_USERNAME="edge1",
                 LINEWATCH_CENTRAL_SASL_PASSWORD_FILE=str(tmp_path / "pw"),
                 LINEWATCH_CENTRAL_SSL_CAFILE=str(tmp_path / "ca.crt"))
    assert out.returncode == 0, out.stderr
    props = dict(line.split(" = ", 1) for line in (tmp_path / "mm2.properties").read_text().splitlines()
                 if " = " in line and not line.startswith("#"))
    assert props["central.bootstrap.servers"] == "central:9093"
    assert props["central.security.protocol"] == "SASL_SSL" and props["central.sasl.mechanism"] == "SCRAM-SHA-512"
    assert props["central.sasl.jaas.config"] == ('org.apache.kafka.common.security.scram.ScramLoginModule required '
                                                 'username="edge1" password="s3cret-central";')
    assert props["central.ssl.truststore.location"] == str(tmp_path / "ca.crt")
    assert (tmp_path / "mm2.properties").stat().st_mode & 0o077 == 0
    assert "s3cret-central" not in out.stdout and 'password="***"' in out.stdout


def test_edge_uplink_plaintext_only_when_asked_and_with_a_warning(tmp_path: Path) -> None:
    out = uplink(tmp_path, "--print-config", LINEWATCH_CENTRAL_SECURITY_PROTOCOL="PLAINTEXT")
    assert out.returncode == 0 and "unencrypted" in out.stderr
    assert "central.security.protocol = PLAINTEXT" in out.stdout and "sasl" not in out.stdout
    assert uplink(tmp_path, LINEWATCH_CENTRAL_SECURITY_PROTOCOL="CLEAR").returncode == 2


def test_edge_mirror_forwards_every_topic_the_line_produces() -> None:
    from contracts import topics

    props = dict(line.split(" = ", 1) for line in (ROOT / "deploy" / "edge" / "mirror-maker.properties")
                 .read_text().splitlines() if " = " in line and not line.startswith("#"))
    up = re.compile(props["edge->central.topics"].replace("\\\\", "\\"))
    down = re.compile(props["central->edge.topics"].replace("\\\\", "\\"))
    names = set(topics.BY_NAME)
    assert "linewatch.telemetry.v1" in names
    for name in names:
        assert bool(up.fullmatch(name)) != bool(down.fullmatch(name)), f"{name}: exactly one direction"
    assert down.fullmatch("linewatch.commands.v1")


def test_dockerfile_is_multi_stage_slim_and_non_root() -> None:
    lines = [ln.strip() for ln in (ROOT / "Dockerfile").read_text().splitlines()
             if ln.strip() and not ln.startswith("#")]
    froms = [ln for ln in lines if ln.startswith("FROM ")]
    assert len(froms) >= 2 and all("${PYTHON_IMAGE}" in f for f in froms)
    assert any(re.match(r"ARG PYTHON_IMAGE=python:3\.11-slim", ln) for ln in lines)
    users = [ln for ln in lines if ln.startswith("USER ")]
    assert users and users[-1] == "USER 10001:10001"
    assert lines.index(users[-1]) > lines.index(froms[-1])
    assert 'ENTRYPOINT ["linewatch"]' in lines
    assert "LINEWATCH_CONNECTOR__METRICS_HOST=0.0.0.0" in (ROOT / "Dockerfile").read_text()
    assert (ROOT / ".dockerignore").read_text().splitlines()[1] == "*", "whitelist the build context"


def test_image_gets_every_python_package() -> None:
    """A top-level package added to pyproject must also reach the build context and the image."""
    import tomllib

    include = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]["include"]
    packages = [p.rstrip("*") for p in include]
    allowed = (ROOT / ".dockerignore").read_text().splitlines()
    copies = (ROOT / "Dockerfile").read_text().splitlines()
    for package in packages:
        assert f"!{package}/" in allowed, f"{package}/ missing from the .dockerignore whitelist"
        assert f"COPY {package} ./{package}" in copies, f"Dockerfile does not copy {package}/"
