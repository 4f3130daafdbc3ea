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
    for name, service in raw()["services"].items():
        env = service.get("environment", {})
        for key, value in env.items():
            if re.search(r"PASSWORD|SECRET|TOKEN", key):
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
    lines = [l.strip() for l in (ROOT / "Dockerfile").read_text().splitlines() if l.strip() and not l.startswith("#")]
    froms = [l for l in lines if l.startswith("FROM ")]
    assert len(froms) >= 2 and all("${PYTHON_IMAGE}" in f for f in froms)
    assert any(re.match(r"ARG PYTHON_IMAGE=python:3\.11-slim", l) for l in lines)
    users = [l for l in lines if l.startswith("USER ")]
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
