"""The deployment files keep the doors closed: secrets and NATS users.

Read from deploy/ and compared with the code, as tests/unit/test_deploy.py does: every
service gets each secret its code reads and runs in production; every NATS node has the
users that shared/bus/topology.py gives, their passwords from a secret.
"""

from __future__ import annotations

import ast
import importlib
from functools import cache

import pytest

from deploy import nats_auth
from shared import config
from shared.bus.permissions import password_variable
from shared.bus.topology import OPERATOR, ROLES
from shared.config import Settings, env_name
from tests.unit.test_deploy import (
    K8S,
    ROOT,
    SERVICES,
    compose_services,
    environments,
    k8s_named,
    nats_statefulset,
    parse_nats_conf,
)
from tests.unit.test_deploy import (
    containers as pod_containers,
)

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
