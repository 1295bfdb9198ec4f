"""The deployment files keep the doors closed: secrets, NATS users, the Ingress and the network.

Read from deploy/ and compared with the code, as tests/unit/test_deploy.py does: every
service gets each secret its code reads and runs in production; every NATS node has the
users that shared/bus/topology.py gives, their passwords from a secret; the Ingress routes
the public paths and no /metrics; NetworkPolicies let only the ingress reach the HTTP ports
and only the services reach NATS and PostgreSQL.
"""

from __future__ import annotations

import ast
import importlib
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from deploy import nats_auth
from shared import config
from shared.bus.permissions import password_variable
from shared.bus.roles import OPERATOR, ROLES
from shared.config import Settings, env_name
from tests.support.netpol import Pod, reaches
from tests.unit.test_deploy import (
    K8S,
    ROOT,
    SERVICES,
    compose_services,
    environments,
    k8s_kind,
    k8s_named,
    nats_statefulset,
    parse_nats_conf,
    workloads,
)
from tests.unit.test_deploy import (
    containers as pod_containers,
)

OPS_ROUTES = {"/metrics", "/healthz", "/readyz"}
EVERY_SERVICE_READS = {"database_url", "nats_password"}  # shared/service.py, for all


@cache
def secrets_read(service: str) -> frozenset[str]:
    """The secret settings a service's code reads (its CLI commands left out), and those of
    the database and NATS that every service reads."""
    found = set(EVERY_SERVICE_READS)
    for path in (ROOT / "services" / service).rglob("*.py"):
        if path.name.startswith("cli"):
            continue  # run by operators elsewhere, with their own settings
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and node.attr in config.SECRETS:
                found.add(node.attr)
    return frozenset(found)


def _is_secret(value: str) -> bool:
    return value.startswith("secret:") or "${" in value  # a Secret, or compose's .env


# --- secrets and production ---------------------------------------------------------------


def test_every_service_gets_each_secret_it_reads_and_runs_in_production() -> None:
    assert secrets_read("ingest") >= {"secret_key", "operator_key"}, "the e-mail hashes"
    for where, env in environments().items():
        service = where.split()[1]
        for field in secrets_read(service):
            name = env_name(field)
            assert name in env, f"{where} reads {name} but is not given it"
            assert _is_secret(str(env[name])), f"{where}: {name} is not from a secret"
        assert env[env_name("env")] == "production", where
        assert env[env_name("nats_user")] == service, where
        assert password_variable(service) in env[env_name("nats_password")], where
        if "nats_operator_password" in secrets_read(service):
            operator = env[env_name("nats_operator_password")]
            assert password_variable(OPERATOR) in operator, where


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_refuses_to_start_without_each_secret_it_reads(service: str) -> None:
    declared = importlib.import_module(f"services.{service}.app").SECRETS
    assert set(declared) == secrets_read(service) - EVERY_SERVICE_READS
    production = config.load({env_name("env"): "production"})
    refused = " ".join(config.refusals(production, declared))
    for field in declared:
        assert env_name(field) in refused
    assert env_name("nats_user") in refused


def test_the_development_secret_is_the_one_production_refuses() -> None:
    assert Settings().secret_key == config.load({}).secret_key
    assert Settings().env == "development", "`make up` and the tests are not production"


# --- NATS users ---------------------------------------------------------------------------


def test_the_nats_users_are_the_ones_the_topology_gives() -> None:
    for path, text in nats_auth.generated().items():
        assert path.read_text() == text, f"{path.name} is stale: run python -m deploy.nats_auth"


def test_every_nats_node_includes_the_users_with_passwords_from_a_secret() -> None:
    variables = {password_variable(role) for role in ROLES}
    compose_conf = parse_nats_conf((K8S.parent / "nats" / "nats.conf").read_text())
    k8s_conf = parse_nats_conf(k8s_named("ConfigMap", "nats-config")["data"]["nats.conf"])
    assert compose_conf["include"] == k8s_conf["include"] == "auth.conf"
    nodes = [s for n, s in compose_services().items() if n.startswith("nats-")]
    for node in nodes:
        assert "./nats/auth.conf:/etc/nats/auth.conf:ro" in node["volumes"]
        for variable in variables:
            assert node["environment"][variable].startswith(f"${{{variable}:?"), variable
    sts = nats_statefulset()
    (container,) = pod_containers(sts)
    assert {"secretRef": {"name": "anshin-nats"}} in container["envFrom"]
    volumes = {v["name"]: v for v in sts["spec"]["template"]["spec"]["volumes"]}
    sources = {s["configMap"]["name"] for s in volumes["config"]["projected"]["sources"]}
    assert sources == {"nats-config", "nats-auth"}
    documented = (ROOT / "docs" / "deploy.md").read_text()
    assert "anshin-nats" in documented and all(v in documented for v in variables)


# --- the Ingress: public paths only ---------------------------------------------------------


@cache
def routes(service: str) -> frozenset[str]:
    """The paths a service's application serves."""
    app = importlib.import_module(f"services.{service}.app").build(Settings())
    return frozenset(r.canonical for r in app.router.resources())


def ingress_paths() -> list[tuple[str, str, str]]:
    """(path, pathType, service) of every rule of every Ingress."""
    found = []
    for ingress in k8s_kind("Ingress"):
        for rule in ingress["spec"]["rules"]:
            for p in rule["http"]["paths"]:
                backend = p["backend"]["service"]
                assert (
                    k8s_named("Service", backend["name"])["spec"]["ports"][0]["name"]
                    == (backend["port"]["name"])
                )
                found.append((p["path"], p["pathType"], backend["name"]))
    return found


def _covers(path: str, kind: str, route: str) -> bool:
    if kind == "Exact":
        return route == path
    return route == path or route.startswith(path.rstrip("/") + "/")


def test_the_ingress_routes_every_public_path_to_its_service_and_no_metrics() -> None:
    paths = ingress_paths()
    assert paths
    for path, kind, service in paths:
        assert any(_covers(path, kind, r) for r in routes(service)), f"{path}: not {service}'s"
        for ops in OPS_ROUTES | {"/"}:
            assert not _covers(path, kind, ops) and path != "/", f"{path} exposes {ops}"
    for service in SERVICES:
        for route in routes(service) - OPS_ROUTES:
            owners = {s for p, k, s in paths if _covers(p, k, route)}
            assert owners == {service}, f"{route} of {service} is routed to {owners or 'none'}"


# --- NetworkPolicies ----------------------------------------------------------------------


@cache
def policies() -> list[dict[str, Any]]:
    return k8s_kind("NetworkPolicy")


def pod_of(workload: dict[str, Any]) -> Pod:
    template = workload["spec"]["template"]
    ports = {p["name"]: p["containerPort"] for c in pod_containers(workload) for p in c["ports"]}
    return Pod(workload["metadata"]["namespace"], dict(template["metadata"]["labels"]), ports)


@cache
def pods() -> dict[str, Pod]:
    """Every pod of the manifests by its name label, the migration Job's among them."""
    job = yaml.safe_load((K8S / "migrate" / "job.yaml").read_text())
    template = job["spec"]["template"]
    found = {"migrate": Pod("anshin", dict(template["metadata"]["labels"]))}
    for workload in workloads():
        pod = pod_of(workload)
        found[pod.labels["app.kubernetes.io/name"]] = pod
    return found


INGRESS = Pod("ingress-nginx", {"app.kubernetes.io/name": "ingress-nginx"})
PROMETHEUS = Pod("monitoring", {"app.kubernetes.io/name": "prometheus"})
KEDA = Pod("keda", {"app": "keda-operator"})
STRANGER = Pod("anshin", {"run": "debug"})  # `kubectl run` in the namespace
NEIGHBOUR = Pod("shop", {"app": "storefront"})  # another team's pod in the cluster
POSTGRES = Pod("databases", {"app": "postgres"}, {"postgres": 5432})


def test_only_the_ingress_reaches_the_http_ports_and_prometheus_reaches_metrics() -> None:
    public = {service for _, _, service in ingress_paths()}
    assert public == {"ingest", "advisory", "mailer"}
    for service in SERVICES:
        pod = pods()[service]
        port = pod.ports["http"]
        assert reaches(policies(), INGRESS, pod, port) == (service in public), service
        assert reaches(policies(), PROMETHEUS, pod, port), f"{service}: /metrics unscraped"
        for other in (STRANGER, NEIGHBOUR, pods()["nats"], *(pods()[s] for s in SERVICES)):
            assert not reaches(policies(), other, pod, port), f"{other.labels} -> {service}"


def test_only_the_services_reach_nats_and_postgres() -> None:
    nats = pods()["nats"]
    for service in SERVICES:
        assert reaches(policies(), pods()[service], nats, nats.ports["client"]), service
        assert reaches(policies(), pods()[service], POSTGRES, 5432), service
    assert reaches(policies(), pods()["migrate"], POSTGRES, 5432)
    for other in (STRANGER, INGRESS, PROMETHEUS, NEIGHBOUR, pods()["migrate"]):
        assert not reaches(policies(), other, nats, nats.ports["client"]), other.labels
    for other in (STRANGER, nats):
        assert not reaches(policies(), other, POSTGRES, 5432), other.labels


def test_nats_nodes_route_to_each_other_and_keda_reads_their_lag() -> None:
    nats = pods()["nats"]
    assert reaches(policies(), nats, nats, nats.ports["cluster"])
    assert reaches(policies(), KEDA, nats, nats.ports["monitor"])
    assert not reaches(policies(), STRANGER, nats, nats.ports["cluster"])
    assert not reaches(policies(), pods()["ingest"], nats, nats.ports["monitor"])


def test_the_policy_reader_is_not_blind(tmp_path: Path) -> None:
    """Without the policies everyone reaches everything; with a default deny, nobody."""
    nats, deny = pods()["nats"], [p for p in policies() if p["metadata"]["name"] == "default-deny"]
    assert reaches([], STRANGER, nats, nats.ports["client"])
    assert not reaches(deny, pods()["ingest"], nats, nats.ports["client"])
