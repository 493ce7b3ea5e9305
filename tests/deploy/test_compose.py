"""deploy/compose: start-up order, ports, settings, and the files the containers mount."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from tests.deploy.rendering import COMPOSE_DIR, ROOT, SERVICES

COMPOSE_FILES = ("compose.yaml", "compose.nats-cluster.yaml")
# Host ports are for the gateway and for development UIs only: Jaeger, Mailpit, and the mock OIDC
# provider (the browser is redirected to it during login).
PUBLISHING = {"gateway", "jaeger", "mailpit", "mock-oidc"}
VARIABLE = re.compile(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)")
BARE_VARIABLE = re.compile(r"(?<!\$)\$([A-Za-z_][A-Za-z0-9_]*)")


def env_example() -> dict[str, str]:
    values: dict[str, str] = {}
    for line in (COMPOSE_DIR / ".env.example").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, sep, value = line.partition("=")
            assert sep, f".env.example: {line!r} is not NAME=value"
            assert key not in values, f".env.example sets {key} twice"
            values[key] = value
    return values


def environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment", {})
    assert isinstance(env, dict), "environment as a mapping, so anchors can merge it"
    return {key: str(value) for key, value in env.items()}


def depends(service: dict[str, Any]) -> dict[str, str]:
    return {name: condition["condition"] for name, condition in service.get("depends_on", {}).items()}


def mounts(service: dict[str, Any]) -> dict[str, str]:
    """Container path -> host path of the bind mounts (./...)."""
    found = {}
    for volume in service.get("volumes", []):
        source, target, *_ = volume.split(":")
        if source.startswith("."):
            found[target] = source
    return found


def mounted_file(service: dict[str, Any], target: str) -> Path:
    source = mounts(service).get(target)
    assert source is not None, f"nothing is mounted at {target}"
    path = COMPOSE_DIR / source
    assert path.is_file(), f"{source} does not exist"
    return path


def test_compose_has_every_part(compose: dict[str, Any]) -> None:
    expected = {
        "nats",
        "postgres",
        "nats-bootstrap",
        "gateway",
        "otel-collector",
        "jaeger",
        "mailpit",
        "mock-oidc",
        *SERVICES,
        *(f"migrate-{s}" for s in SERVICES),
    }
    assert expected <= set(compose["services"])


@pytest.mark.parametrize("service", SERVICES)
def test_service_starts_after_its_migration_and_the_stream_bootstrap(compose: dict[str, Any], service: str) -> None:
    conditions = depends(compose["services"][service])
    assert conditions.get(f"migrate-{service}") == "service_completed_successfully"
    assert conditions.get("nats-bootstrap") == "service_completed_successfully"


@pytest.mark.parametrize("service", SERVICES)
def test_migration_job_uses_the_service_image_and_database(compose: dict[str, Any], service: str) -> None:
    job = compose["services"][f"migrate-{service}"]
    svc = compose["services"][service]
    assert job["command"] == ["kp", "migrate", service]
    assert job["restart"] == "no"
    assert job["image"] == svc["image"]
    assert environment(job) == environment(svc)
    assert depends(job) == {"postgres": "service_healthy"}
    assert "healthcheck" in compose["services"]["postgres"]


def test_bootstrap_job_waits_for_a_healthy_nats(compose: dict[str, Any]) -> None:
    job = compose["services"]["nats-bootstrap"]
    assert job["command"][:3] == ["kp", "nats", "bootstrap"]
    assert job["command"][job["command"].index("--replicas") + 1] == "1"
    assert depends(job) == {"nats": "service_healthy"}
    assert environment(job)["KP_NATS_URL"] == "nats://nats:4222"


@pytest.mark.parametrize("service", SERVICES)
def test_service_runs_its_own_image_and_database(compose: dict[str, Any], service: str) -> None:
    svc = compose["services"][service]
    assert svc["build"] == {"context": "../..", "dockerfile": f"services/{service}/Dockerfile"}
    assert (COMPOSE_DIR / svc["build"]["context"] / svc["build"]["dockerfile"]).resolve().is_file()
    assert svc["image"].endswith(f"/{service}:${{KP_IMAGE_TAG:-dev}}")
    assert "command" not in svc, "the image's CMD serves the service"
    env = environment(svc)
    url = urlsplit(re.sub(r"\$\{(\w+)[^}]*\}", r"<\1>", env[f"KP_{service.upper()}_DATABASE_URL"]))
    assert url.scheme == "postgresql+asyncpg"
    assert (url.hostname, url.port, url.path, url.username) == ("postgres", 5432, f"/{service}", service)
    assert url.password == f"<KP_{service.upper()}_DB_PASSWORD>"
    assert env["KP_NATS_URL"] == "nats://nats:4222"
    assert env["OTEL_SERVICE_NAME"] == f"kp-{service}"
    assert svc["read_only"] is True and "/tmp" in svc["tmpfs"]


def test_only_the_gateway_and_development_uis_publish_host_ports(compose: dict[str, Any]) -> None:
    publishing = {name for name, service in compose["services"].items() if service.get("ports")}
    assert publishing == PUBLISHING
    assert compose["services"]["gateway"]["ports"] == ["${KP_PORT:-8000}:8000"]
    for name in PUBLISHING - {"gateway"}:
        for port in compose["services"][name]["ports"]:
            assert port.startswith("127.0.0.1:"), f"{name}: an unauthenticated UI on every interface"


def test_cluster_override_publishes_no_port(compose_cluster: dict[str, Any]) -> None:
    assert all(not service.get("ports") for service in compose_cluster["services"].values())


@pytest.mark.parametrize("file_name", COMPOSE_FILES)
def test_every_variable_is_in_env_example(file_name: str) -> None:
    text = (COMPOSE_DIR / file_name).read_text(encoding="utf-8")
    used = set(VARIABLE.findall(text))
    missing = used - set(env_example())
    assert not missing, f"{file_name} uses variables that .env.example lacks: {sorted(missing)}"
    bare = {name for name in BARE_VARIABLE.findall(text)}
    assert not bare, f"write ${{{sorted(bare)[0]}}} with braces, so this test sees it"


def test_env_example_sets_only_variables_compose_uses() -> None:
    used: set[str] = set()
    for file_name in COMPOSE_FILES:
        used |= set(VARIABLE.findall((COMPOSE_DIR / file_name).read_text(encoding="utf-8")))
    assert set(env_example()) - used == set()


def test_env_example_marks_every_secret_as_a_placeholder() -> None:
    values = env_example()
    secrets = [k for k in values if re.search(r"SECRET|PASSWORD", k) and not k.endswith("_CLIENT_ID")]
    assert len(secrets) >= 8
    for key in secrets:
        assert values[key].startswith("CHANGE_ME"), f"{key} must be a marked placeholder"
    # KP_ENV=prod makes the services refuse the placeholder secret: it is shorter than 32 characters.
    assert values["KP_ENV"] == "prod" and len(values["KP_AUTH_SECRET"]) < 32


def test_no_secret_is_written_into_compose(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        for key, value in environment(service).items():
            if re.search(r"SECRET|PASSWORD", key):
                assert value.startswith("${") and ":?" in value, f"{name}: {key} must come from .env, required"


def test_nats_keeps_jetstream_on_a_volume_and_syncs_always(compose: dict[str, Any]) -> None:
    nats = compose["services"]["nats"]
    assert nats["command"] == ["nats-server", "--config", "/etc/nats/nats.conf"]
    config = mounted_file(nats, "/etc/nats/nats.conf").read_text(encoding="utf-8")
    assert re.search(r"^\s*sync_interval:\s*always\s*$", config, re.MULTILINE)
    store = re.search(r"^\s*store_dir:\s*(\S+)", config, re.MULTILINE)
    assert store is not None
    volumes = {v.split(":")[1]: v.split(":")[0] for v in nats["volumes"]}
    assert volumes.get("/data") in compose["volumes"] and store.group(1).startswith("/data/")
    assert "healthz" in " ".join(nats["healthcheck"]["test"])


def test_postgres_creates_every_service_database_on_first_start(compose: dict[str, Any]) -> None:
    postgres = compose["services"]["postgres"]
    script = mounted_file(postgres, "/docker-entrypoint-initdb.d/10-service-databases.sh")
    assert tuple(re.findall(r'^SERVICES="(.+)"$', script.read_text(), re.MULTILINE)[0].split()) == SERVICES
    env = environment(postgres)
    for service in SERVICES:
        assert f"KP_{service.upper()}_DB_PASSWORD" in env
    assert "postgres-data:/var/lib/postgresql/data" in postgres["volumes"]


def gateway_routes() -> dict[str, str]:
    text = (COMPOSE_DIR / "gateway" / "default.conf").read_text(encoding="utf-8")
    pattern = re.compile(r"location\s+(/\S*)\s*\{\s*set \$upstream (http://[^;]+);\s*proxy_pass \$upstream;\s*\}")
    return dict(pattern.findall(text))


@pytest.mark.parametrize("service", SERVICES)
def test_gateway_routes_the_service_api_and_pages(compose: dict[str, Any], service: str) -> None:
    mounted_file(compose["services"]["gateway"], "/etc/nginx/conf.d/default.conf")
    routes = gateway_routes()
    assert routes.get(f"/api/{service}/") == f"http://{service}:8080"
    assert routes.get(f"/{service}/") == f"http://{service}:8080"
    assert compose["services"]["gateway"]["depends_on"][service]


def test_gateway_routes_nothing_else() -> None:
    assert len(gateway_routes()) == 2 * len(SERVICES)
    text = (COMPOSE_DIR / "gateway" / "default.conf").read_text(encoding="utf-8")
    assert "listen 8000;" in text


def test_traces_flow_from_the_services_through_the_collector_to_jaeger(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for service in SERVICES:
        endpoint = urlsplit(environment(services[service])["OTEL_EXPORTER_OTLP_ENDPOINT"])
        assert (endpoint.hostname, endpoint.port) == ("otel-collector", 4318)
    collector = services["otel-collector"]
    config_path = next(a.split("=", 1)[1] for a in collector["command"] if a.startswith("--config="))
    config = yaml.safe_load(mounted_file(collector, config_path).read_text(encoding="utf-8"))
    assert config["receivers"]["otlp"]["protocols"]["http"]["endpoint"].endswith(":4318")
    pipeline = config["service"]["pipelines"]["traces"]
    assert "otlp" in pipeline["receivers"]
    for processor in pipeline["processors"]:
        assert processor in config["processors"]
    endpoints = [config["exporters"][name].get("endpoint", "") for name in pipeline["exporters"]]
    assert any(endpoint.startswith("jaeger:") for endpoint in endpoints), "no traces exporter points at jaeger"
    assert services["jaeger"]["environment"]["COLLECTOR_OTLP_ENABLED"] == "true"


def test_notify_sends_mail_to_mailpit(compose: dict[str, Any]) -> None:
    env = environment(compose["services"]["notify"])
    assert env["KP_NOTIFY_SMTP_HOST"] == "mailpit"
    assert env["KP_NOTIFY_SMTP_PORT"] == "1025"
    assert env["KP_NOTIFY_MAIL_FROM"]
    assert depends(compose["services"]["notify"])["mailpit"] == "service_started"


# ----------------------------------------------------------------------------------------------------
# The 3-node cluster override
# ----------------------------------------------------------------------------------------------------

NODES = {"nats": "nats-1", "nats-2": "nats-2", "nats-3": "nats-3"}


def node_names(compose: dict[str, Any], compose_cluster: dict[str, Any]) -> dict[str, set[str]]:
    """Every DNS name each node answers to on the compose network: its service name and aliases."""
    names = {}
    for service in NODES:
        aliases = compose_cluster["services"][service].get("networks", {}).get("default", {}).get("aliases", [])
        names[service] = {service, *aliases}
    assert set(compose["services"]) & set(NODES) == {"nats"}
    return names


def test_cluster_has_three_nodes_with_their_own_config_and_volume(
    compose: dict[str, Any], compose_cluster: dict[str, Any]
) -> None:
    data_volumes = set()
    for service, name in NODES.items():
        node = compose_cluster["services"][service]
        config = mounted_file(node, "/etc/nats/nats.conf").read_text(encoding="utf-8")
        assert re.search(rf"^server_name:\s*{name}\s*$", config, re.MULTILINE)
        assert re.search(r"^\s*sync_interval:\s*always\s*$", config, re.MULTILINE)
        volumes = node.get("volumes", []) if service != "nats" else compose["services"]["nats"]["volumes"]
        data = [v.split(":")[0] for v in volumes if v.split(":")[1] == "/data"]
        assert len(data) == 1
        data_volumes.add(data[0])
    assert len(data_volumes) == 3
    assert data_volumes <= set(compose["volumes"]) | set(compose_cluster["volumes"])


def test_cluster_routes_reach_every_node(compose: dict[str, Any], compose_cluster: dict[str, Any]) -> None:
    names = node_names(compose, compose_cluster)
    for service in NODES:
        config = mounted_file(compose_cluster["services"][service], "/etc/nats/nats.conf").read_text(encoding="utf-8")
        routes = re.findall(r"nats-route://([a-z0-9-]+):6222", config)
        assert len(routes) == 3
        reached = {next(s for s, n in names.items() if host in n) for host in routes}
        assert reached == set(NODES), f"{service}: routes {routes}"
    # The services' nats://nats:4222 reaches any node.
    assert all("nats" in n for n in names.values())


def test_cluster_bootstrap_replicates_streams_three_times(compose_cluster: dict[str, Any]) -> None:
    job = compose_cluster["services"]["nats-bootstrap"]
    assert job["command"] == ["kp", "nats", "bootstrap", "--replicas", "3"]
    assert {"nats-2", "nats-3"} <= set(depends(job))
    for node in ("nats-2", "nats-3"):
        assert compose_cluster["services"][node]["healthcheck"]


def test_compose_files_resolve_their_relative_paths() -> None:
    """Every ./path mounted or built exists, so `docker compose up` does not create empty directories."""
    for file_name in COMPOSE_FILES:
        document = yaml.safe_load((COMPOSE_DIR / file_name).read_text(encoding="utf-8"))
        for service in document["services"].values():
            for source in mounts(service).values():
                assert (COMPOSE_DIR / source).exists(), f"{file_name}: {source}"
            if "build" in service:
                assert (COMPOSE_DIR / service["build"]["context"]).resolve() == ROOT
