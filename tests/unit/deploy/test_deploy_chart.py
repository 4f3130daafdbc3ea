"""The Helm chart, offline: `helm lint --strict`, `helm template` with every ci values file,
Kubernetes schema validation (kubernetes-validate, strict) and unit tests of each flag."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
from _deploytools import CHART, RenderError, by_kind, run

CI_FILES = sorted(p.name for p in (CHART / "ci").glob("*-values.yaml"))
DEFAULT_COMPONENTS = {"scoring", "persist", "archive", "api"}
ALL_COMPONENTS = DEFAULT_COMPONENTS | {"simulator", "connect"}
CUSTOM_KINDS = {"ScaledObject", "TriggerAuthentication", "ServiceMonitor", "KafkaTopic", "KafkaUser"}
POD_VOLUME_TYPES = {"configMap", "secret", "emptyDir", "projected", "downwardAPI", "persistentVolumeClaim"}


def pod_specs(objs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {name: d["spec"]["template"]["spec"] for name, d in by_kind(objs, "Deployment").items()}


def test_ci_values_files_exist() -> None:
    assert {"default-values.yaml", "all-features-values.yaml", "hpa-values.yaml", "edge-values.yaml"} <= set(CI_FILES)


@pytest.mark.parametrize("values_file", CI_FILES)
def test_helm_lint_strict(helm: Path, values_file: str) -> None:
    out = run([helm, "lint", "--strict", CHART, "-f", CHART / "ci" / values_file])
    assert out.returncode == 0, out.stdout + out.stderr
    assert "0 chart(s) failed" in out.stdout


@pytest.mark.parametrize(("override", "message"), [
    (["--set", "bogus=1"], "additional properties 'bogus' not allowed"),
    (["--set", "kafka.sasl.mechanism=GSSAPI"], "mechanism"),
    (["--set", "securityContext.readOnlyRootFilesystem=false"], "readOnlyRootFilesystem"),
    (["--set", "components.connect.enabled=true"], "mappingConfigMap"),
    (["--set", "kafka.bootstrapServers=no-port"], "bootstrapServers"),
    (["--set", "kafka.sasl.mechanism=SCRAM-SHA-512"], "/kafka/sasl/passwordSecret/name"),
])
def test_schema_rejects_bad_values(helm: Path, override: list[str], message: str) -> None:
    out = run([helm, "lint", "--strict", CHART, *override])
    assert out.returncode != 0
    assert message in out.stdout + out.stderr


@pytest.mark.parametrize("values_file", CI_FILES)
@pytest.mark.parametrize("k8s", ["1.27", "1.33", "1.37"])
def test_rendered_manifests_validate_against_kubernetes_schemas(render, values_file: str, k8s: str) -> None:
    objs = render(files=(values_file,))
    checked = 0
    for obj in objs:
        if obj["kind"] in CUSTOM_KINDS:
            continue  # no schema offline; asserted structurally below
        try:
            kubernetes_validate.validate(obj, k8s, strict=True)
        except kubernetes_validate.ValidationError as exc:  # the full schema dump is unreadable
            pytest.fail(f"{obj['kind']}/{obj['metadata']['name']} (k8s {k8s}): {exc.message} at {list(exc.path)}")
        checked += 1
    assert checked >= 10


def test_defaults_render_the_core_components(render) -> None:
    objs = render(files=("default-values.yaml",))
    assert set(by_kind(objs, "Deployment")) == DEFAULT_COMPONENTS
    assert set(by_kind(objs, "Service")) == DEFAULT_COMPONENTS
    assert set(by_kind(objs, "NetworkPolicy")) == DEFAULT_COMPONENTS
    assert set(by_kind(objs, "PodDisruptionBudget")) == DEFAULT_COMPONENTS
    kinds = {o["kind"] for o in objs}
    assert not kinds & (CUSTOM_KINDS | {"HorizontalPodAutoscaler", "Ingress", "Secret"})


def test_every_pod_meets_the_restricted_pod_security_standard(render) -> None:
    for name, spec in pod_specs(render(files=("all-features-values.yaml",))).items():
        psc = spec["securityContext"]
        assert psc["runAsNonRoot"] is True and psc["runAsUser"] > 0, name
        assert psc["seccompProfile"]["type"] == "RuntimeDefault", name
        assert spec["automountServiceAccountToken"] is False
        assert not any(spec.get(k) for k in ("hostNetwork", "hostPID", "hostIPC"))
        for volume in spec["volumes"]:
            assert set(volume) - {"name"} <= POD_VOLUME_TYPES, (name, volume)
        (container,) = spec["containers"]
        sc = container["securityContext"]
        assert sc["readOnlyRootFilesystem"] is True and sc["allowPrivilegeEscalation"] is False
        assert sc["capabilities"]["drop"] == ["ALL"]
        mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
        tmp = next(v for v in spec["volumes"] if v["name"] == mounts["/tmp"])
        assert "emptyDir" in tmp, "a read-only root needs a writable /tmp"
        assert container["resources"]["requests"]["cpu"] and container["resources"]["limits"]["memory"]
        for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
            assert container[probe]["httpGet"]["port"] == container["ports"][0]["name"], (name, probe)


def test_api_readiness_checks_store_and_broker(render) -> None:
    api = pod_specs(render())["api"]["containers"][0]
    assert api["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert api["livenessProbe"]["httpGet"]["path"] == "/healthz"


def test_keda_on_renders_a_scaled_object_and_no_hpa(render) -> None:
    objs = render(files=("all-features-values.yaml",))
    assert not by_kind(objs, "HorizontalPodAutoscaler")
    (so,) = by_kind(objs, "ScaledObject").values()
    deployment = by_kind(objs, "Deployment")["scoring"]
    assert so["spec"]["scaleTargetRef"]["name"] == deployment["metadata"]["name"]
    assert "replicas" not in deployment["spec"], "helm upgrades must not fight the autoscaler"
    (trigger,) = so["spec"]["triggers"]
    meta = trigger["metadata"]
    assert trigger["type"] == "kafka"
    assert all(isinstance(v, str) for v in meta.values()), "KEDA trigger metadata values are strings"
    assert (meta["topic"], meta["consumerGroup"], meta["lagThreshold"]) == ("linewatch.telemetry.v1",
                                                                            "linewatch-scoring", "1000")
    assert (meta["sasl"], meta["tls"]) == ("scram_sha512", "enable")
    (auth,) = by_kind(objs, "TriggerAuthentication").values()
    assert trigger["authenticationRef"]["name"] == auth["metadata"]["name"]
    params = {r["parameter"]: r for r in auth["spec"]["secretTargetRef"]}
    assert params["password"]["name"] == "demo-linewatch" and params["ca"]["name"] == "plant-kafka-cluster-ca-cert"


@pytest.mark.parametrize(("autoscaling", "apis", "expect"), [
    ({"enabled": True, "keda": {"enabled": True}}, ("keda.sh/v1alpha1",), "ScaledObject"),
    ({"enabled": True, "keda": {"enabled": True}}, (), "HorizontalPodAutoscaler"),  # no KEDA in the cluster
    ({"enabled": True, "keda": {"enabled": False}}, ("keda.sh/v1alpha1",), "HorizontalPodAutoscaler"),
    ({"enabled": False, "keda": {"enabled": True}}, ("keda.sh/v1alpha1",), None),
])
def test_keda_xor_hpa(render, autoscaling: dict, apis: tuple[str, ...], expect: str | None) -> None:
    objs = render({"autoscaling": autoscaling}, apis=apis)
    kinds = {o["kind"] for o in objs} & {"ScaledObject", "HorizontalPodAutoscaler"}
    assert kinds == ({expect} if expect else set())
    scoring = by_kind(objs, "Deployment")["scoring"]
    assert ("replicas" in scoring["spec"]) == (expect is None)


def test_hpa_scales_scoring_on_cpu(render) -> None:
    objs = render(files=("hpa-values.yaml",))
    (hpa,) = by_kind(objs, "HorizontalPodAutoscaler").values()
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment",
                                             "name": by_kind(objs, "Deployment")["scoring"]["metadata"]["name"]}
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (2, 4)
    assert hpa["spec"]["metrics"][0]["resource"]["name"] == "cpu"


def test_pdb_uses_max_unavailable_and_skips_scale_to_zero(render) -> None:
    pdbs = by_kind(render(), "PodDisruptionBudget")
    assert all(p["spec"] == {"maxUnavailable": 1, "selector": p["spec"]["selector"]} for p in pdbs.values())
    deployments = by_kind(render(), "Deployment")
    for name, pdb in pdbs.items():
        assert pdb["spec"]["selector"] == deployments[name]["spec"]["selector"]
    zero = render({"autoscaling": {"enabled": True, "minReplicas": 0, "keda": {"enabled": True}}})
    assert "scoring" not in by_kind(zero, "PodDisruptionBudget")
    assert not by_kind(render({"podDisruptionBudget": {"enabled": False}}), "PodDisruptionBudget")


def test_service_monitor_needs_flag_and_crd(render) -> None:
    on = {"metrics": {"serviceMonitor": {"enabled": True, "labels": {"release": "kps"}}}}
    assert not by_kind(render(), "ServiceMonitor")
    assert not by_kind(render(on, apis=()), "ServiceMonitor")
    objs = render(on)
    monitors, services = by_kind(objs, "ServiceMonitor"), by_kind(objs, "Service")
    assert set(monitors) == set(services) == DEFAULT_COMPONENTS
    for name, sm in monitors.items():
        assert sm["metadata"]["labels"]["release"] == "kps"
        port_names = {p["name"] for p in services[name]["spec"]["ports"]}
        assert sm["spec"]["endpoints"][0]["port"] in port_names
        assert sm["spec"]["selector"]["matchLabels"].items() <= services[name]["metadata"]["labels"].items()


def test_grafana_dashboard_configmap_carries_the_dashboard(render) -> None:
    assert "dashboard" not in {o["metadata"]["name"].rsplit("-", 1)[-1] for o in render() if o["kind"] == "ConfigMap"}
    objs = render({"metrics": {"grafanaDashboard": {"enabled": True}}})
    (cm,) = [o for o in objs if o["kind"] == "ConfigMap" and o["metadata"]["name"].endswith("-dashboard")]
    assert cm["metadata"]["labels"]["grafana_dashboard"] == "1"
    shipped = json.loads((CHART / "files" / "dashboards" / "linewatch.json").read_text())
    assert json.loads(cm["data"]["linewatch.json"]) == shipped


def test_secrets_are_referenced_never_inlined(render) -> None:
    objs = render(files=("all-features-values.yaml",))
    assert "Secret" not in {o["kind"] for o in objs}
    (config,) = [o for o in objs if o["kind"] == "ConfigMap" and o["metadata"]["name"].endswith("-env")]
    assert not any("PASSWORD" in k for k in config["data"])
    assert config["data"]["LINEWATCH_KAFKA__SECURITY_PROTOCOL"] == "SASL_SSL"
    for name, spec in pod_specs(objs).items():
        env = {e["name"]: e for e in spec["containers"][0]["env"]}
        # the Strimzi KafkaUser's Secret (release "demo": KafkaUser demo-linewatch)
        assert env["LINEWATCH_KAFKA__SASL_PASSWORD"]["valueFrom"]["secretKeyRef"] == {"name": "demo-linewatch",
                                                                                       "key": "password"}
        if name == "api":
            assert env["LINEWATCH_TOKEN_PEPPER"]["valueFrom"]["secretKeyRef"]["name"] == "linewatch-api"
        else:
            assert "LINEWATCH_TOKEN_PEPPER" not in env
        store_user = name in {"scoring", "persist", "api"}
        assert ("LINEWATCH_STORE__PASSWORD" in env) == store_user, name
        assert all("value" not in e for k, e in env.items() if "PASSWORD" in k)


def test_config_change_rolls_the_pods(render) -> None:
    def checksum(objs: list[dict[str, Any]]) -> str:
        return by_kind(objs, "Deployment")["api"]["spec"]["template"]["metadata"]["annotations"]["checksum/config"]
    assert checksum(render()) != checksum(render({"kafka": {"bootstrapServers": "other:9092"}}))


def test_network_policy_allows_only_what_each_component_needs(render) -> None:
    objs = render(files=("all-features-values.yaml",))
    policies = by_kind(objs, "NetworkPolicy")
    assert set(policies) == ALL_COMPONENTS
    for name, np in policies.items():
        spec = np["spec"]
        assert spec["policyTypes"] == ["Ingress", "Egress"]
        egress_ports = {p["port"] for rule in spec["egress"] for p in rule["ports"]}
        assert {53, 9093} <= egress_ports
        assert (5432 in egress_ports) == (name in {"scoring", "persist", "api"}), name
        assert ({4840, 502} <= egress_ports) == (name == "connect"), name
        (ingress,) = spec["ingress"]
        sources = [peer.get("namespaceSelector", {}).get("matchLabels") for peer in ingress["from"]]
        assert {"kubernetes.io/metadata.name": "monitoring"} in sources
    api_sources = policies["api"]["spec"]["ingress"][0]["from"]
    assert {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}}} in api_sources
    assert not by_kind(render({"networkPolicy": {"enabled": False}}), "NetworkPolicy")


def test_strimzi_resources_need_flag_and_crd(render) -> None:
    assert not {o["kind"] for o in render(files=("all-features-values.yaml",), apis=("keda.sh/v1alpha1",))} \
        & {"KafkaTopic", "KafkaUser"}
    assert not {o["kind"] for o in render({"strimzi": {"enabled": False}, "kafka": {"sasl": {
        "username": "lw", "passwordSecret": {"name": "lw"}}}}, files=("all-features-values.yaml",))} \
        & {"KafkaTopic", "KafkaUser"}
    objs = render(files=("all-features-values.yaml",))
    topics = [o for o in objs if o["kind"] == "KafkaTopic"]
    assert {t["spec"]["topicName"] for t in topics} == {f"linewatch.{e}.v1" for e in (
        "telemetry", "events", "scores", "alerts", "commands", "deadletter")}
    assert all(t["metadata"]["labels"]["strimzi.io/cluster"] == "plant-kafka" for t in topics)
    assert all(t["apiVersion"] == "kafka.strimzi.io/v1" and t["spec"]["replicas"] == 3 for t in topics)
    (user,) = [o for o in objs if o["kind"] == "KafkaUser"]
    assert user["spec"]["authentication"]["type"] == "scram-sha-512"
    acls = {a["resource"]["type"]: a for a in user["spec"]["authorization"]["acls"]}
    assert set(acls["group"]["operations"]) == {"Describe", "Read"}
    assert {"Read", "Write"} <= set(acls["topic"]["operations"])


def test_edge_values_run_connector_and_scoring_only(render) -> None:
    objs = render(files=("edge-values.yaml",))
    assert set(by_kind(objs, "Deployment")) == {"scoring", "connect"}
    connect = pod_specs(objs)["connect"]
    volumes = {v["name"]: v for v in connect["volumes"]}
    assert volumes["buffer"]["persistentVolumeClaim"]["claimName"] == "linewatch-connector-buffer"
    assert volumes["mapping"]["configMap"]["name"] == "linewatch-mapping"
    assert by_kind(objs, "Deployment")["connect"]["spec"]["strategy"]["type"] == "Recreate"
    (config,) = [o for o in objs if o["kind"] == "ConfigMap" and o["metadata"]["name"].endswith("-env")]
    assert config["data"]["LINEWATCH_KAFKA__SECURITY_PROTOCOL"] == "SASL_SSL"  # plant data never in clear text
    assert config["data"]["LINEWATCH_KAFKA__SSL_CAFILE"] == "/etc/linewatch/kafka-ca/ca.crt"
    env = {e["name"]: e for e in connect["containers"][0]["env"]}
    assert env["LINEWATCH_KAFKA__SASL_PASSWORD"]["valueFrom"]["secretKeyRef"]["name"] == "linewatch-edge-line1"
    env = {e["name"]: e.get("value") for e in connect["containers"][0]["env"]}
    assert env["LINEWATCH_CONNECTOR__METRICS_HOST"] == "0.0.0.0", "probes and Prometheus reach the pod IP"


def test_connector_without_mapping_is_a_clear_error(render) -> None:
    with pytest.raises(RenderError, match="mappingConfigMap"):
        render({"components": {"connect": {"enabled": True}}})


def test_ports_match_the_documented_defaults(render) -> None:
    ports = {name: spec["containers"][0]["ports"][0]["containerPort"]
             for name, spec in pod_specs(render(files=("all-features-values.yaml",))).items()}
    assert ports == {"scoring": 9400, "persist": 9401, "simulator": 9402, "connect": 9403, "archive": 9404,
                     "api": 8000}


def test_strimzi_kafka_user_is_wired_to_the_workers(render) -> None:
    """SCRAM: every worker logs in as the KafkaUser with the password Strimzi writes to its Secret."""
    objs = render(files=("all-features-values.yaml",))
    (user,) = [o for o in objs if o["kind"] == "KafkaUser"]
    name = user["metadata"]["name"]
    (config,) = [o for o in objs if o["kind"] == "ConfigMap" and o["metadata"]["name"].endswith("-env")]
    assert config["data"]["LINEWATCH_KAFKA__SASL_USERNAME"] == name
    assert config["data"]["LINEWATCH_KAFKA__SASL_MECHANISM"] == "SCRAM-SHA-512"
    assert config["data"]["LINEWATCH_KAFKA__SECURITY_PROTOCOL"] == "SASL_SSL"
    specs = pod_specs(objs)
    assert specs
    for spec in specs.values():
        env = {e["name"]: e for e in spec["containers"][0]["env"]}
        assert env["LINEWATCH_KAFKA__SASL_PASSWORD"]["valueFrom"]["secretKeyRef"] == {"name": name, "key": "password"}
    (auth,) = by_kind(objs, "TriggerAuthentication").values()
    refs = {r["parameter"]: r for r in auth["spec"]["secretTargetRef"]}
    assert (refs["password"]["name"], refs["password"]["key"]) == (name, "password")


def test_strimzi_tls_user_mounts_its_client_certificate(render) -> None:
    objs = render({"strimzi": {"user": {"authentication": "tls"}}, "kafka": {"sasl": {"mechanism": ""}}},
                  files=("all-features-values.yaml",))
    (user,) = [o for o in objs if o["kind"] == "KafkaUser"]
    assert user["spec"]["authentication"]["type"] == "tls"
    (config,) = [o for o in objs if o["kind"] == "ConfigMap" and o["metadata"]["name"].endswith("-env")]
    assert config["data"]["LINEWATCH_KAFKA__SECURITY_PROTOCOL"] == "SSL"
    assert config["data"]["LINEWATCH_KAFKA__SSL_CERTFILE"] == "/etc/linewatch/kafka-client/tls.crt"
    assert "LINEWATCH_KAFKA__SASL_USERNAME" not in config["data"]
    for spec in pod_specs(objs).values():
        volumes = {v["name"]: v for v in spec["volumes"]}
        assert volumes["kafka-client"]["secret"]["secretName"] == user["metadata"]["name"]
        assert {i["key"] for i in volumes["kafka-client"]["secret"]["items"]} == {"user.crt", "user.key"}
        assert "LINEWATCH_KAFKA__SASL_PASSWORD" not in {e["name"] for e in spec["containers"][0]["env"]}


@pytest.mark.parametrize(("values", "message"), [
    ({"kafka": {"sasl": {"username": "someone-else"}}}, "differs from the KafkaUser"),
    ({"kafka": {"sasl": {"passwordSecret": {"name": "other"}}}}, "Strimzi writes the password"),
    ({"kafka": {"sasl": {"mechanism": "PLAIN"}}}, "needs kafka.sasl.mechanism SCRAM-SHA-512"),
    ({"strimzi": {"user": {"authentication": "tls"}}, "kafka": {"tls": {"enabled": False}, "sasl": {"mechanism": ""}}},
     "needs kafka.tls.enabled"),
])
def test_values_that_contradict_the_kafka_user_fail(render, values: dict, message: str) -> None:
    with pytest.raises(RenderError, match=message):
        render(values, files=("all-features-values.yaml",))
