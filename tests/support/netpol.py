"""Kubernetes NetworkPolicy semantics, enough to ask who may reach whom in deploy/k8s.

A pod selected by no policy of a direction is open in that direction; a selected pod takes
only what one of its policies' rules allows (peers and ports). Namespaces are known by
their `kubernetes.io/metadata.name` label, as the API server sets it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

NAME_LABEL = "kubernetes.io/metadata.name"


@dataclass(frozen=True)
class Pod:
    """A pod: its namespace, labels and named container ports."""

    namespace: str
    labels: dict[str, str] = field(default_factory=dict)
    ports: dict[str, int] = field(default_factory=dict)


def selects(selector: dict[str, Any] | None, labels: dict[str, str]) -> bool:
    """Whether a label selector matches (an empty one matches everything)."""
    selector = selector or {}
    for key, value in selector.get("matchLabels", {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions", []):
        key, operator = expression["key"], expression["operator"]
        values = expression.get("values", [])
        if operator == "In" and labels.get(key) not in values:
            return False
        if operator == "NotIn" and labels.get(key) in values:
            return False
        if operator == "Exists" and key not in labels:
            return False
        if operator == "DoesNotExist" and key in labels:
            return False
    return True


def _peer(item: dict[str, Any], policy_namespace: str, pod: Pod) -> bool:
    if "ipBlock" in item:
        return False  # the pods asked about are pods
    pods, namespaces = item.get("podSelector"), item.get("namespaceSelector")
    if namespaces is None and pod.namespace != policy_namespace:
        return False
    if namespaces is not None and not selects(namespaces, {NAME_LABEL: pod.namespace}):
        return False
    return pods is None or selects(pods, pod.labels)


def _port(rule_ports: list[dict[str, Any]] | None, target: Pod, port: int) -> bool:
    if not rule_ports:
        return True
    for allowed in rule_ports:
        wanted = allowed.get("port")
        if wanted is None or wanted == port or target.ports.get(str(wanted)) == port:
            return True
    return False


def _allows(
    policies: list[dict[str, Any]], direction: str, subject: Pod, peer: Pod, target: Pod, port: int
) -> bool:
    kind, peers = ("Ingress", "from") if direction == "ingress" else ("Egress", "to")
    chosen = [
        p
        for p in policies
        if p["metadata"]["namespace"] == subject.namespace
        and selects(p["spec"]["podSelector"], subject.labels)
        and kind in p["spec"].get("policyTypes", ["Ingress"])
    ]
    if not chosen:
        return True
    for policy in chosen:
        for rule in policy["spec"].get(direction, []):
            items = rule.get(peers)
            peer_ok = not items or any(
                _peer(i, policy["metadata"]["namespace"], peer) for i in items
            )
            if peer_ok and _port(rule.get("ports"), target, port):
                return True
    return False


def reaches(policies: list[dict[str, Any]], source: Pod, target: Pod, port: int) -> bool:
    """Whether `source` may open a connection to `target` on `port` (a number)."""
    out = _allows(policies, "egress", source, target, target, port)
    return out and _allows(policies, "ingress", target, source, target, port)
