"""Pure parts of the bus: topology, roles and their permissions, backoff."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from shared.bus import CONSUMERS, STREAMS, Subjects
from shared.bus.consumer import backoff
from shared.bus.permissions import covers, owned_streams, permissions, stream_of
from shared.bus.topology import OPERATOR, ROLES

ROOT = Path(__file__).resolve().parents[2]


def test_every_consumer_reads_a_declared_stream() -> None:
    names = {s.name for s in STREAMS}
    for spec in CONSUMERS.values():
        assert spec.stream in names


def test_no_two_streams_share_a_subject() -> None:
    subjects = [subject for s in STREAMS for subject in s.subjects]
    assert len(subjects) == len(set(subjects))


def test_backoff_grows_and_is_capped() -> None:
    assert backoff(1) < backoff(2) < backoff(4)
    assert backoff(50) == 60


def _named_in(service: str) -> tuple[set[str], set[str]]:
    """The subjects (Subjects.X) and durable consumers a service's code names."""
    subjects, durables = set(), set()
    for path in (ROOT / "services" / service).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and getattr(node.value, "id", "") == "Subjects":
                named = getattr(Subjects, node.attr)
                # Subjects.customer_upserted(id) and the like: one subject per id, any id
                subjects.add(
                    named if isinstance(named, str) else named("x").rsplit(".", 1)[0] + ".*"
                )
            if isinstance(node, ast.Constant) and node.value in CONSUMERS:
                durables.add(node.value)
    return subjects, durables


@pytest.mark.parametrize("service", ["ingest", "advisory", "matcher", "mailer"])
def test_each_role_is_what_its_service_does_on_the_bus(service: str) -> None:
    role = ROLES[service]
    subjects, durables = _named_in(service)
    assert subjects == {*role.publishes, *role.asks, *role.answers}
    assert durables == set(role.consumes)


def test_every_consumer_belongs_to_one_role_and_every_stream_has_a_publisher() -> None:
    consumed = [d for role in ROLES.values() for d in role.consumes]
    assert sorted(consumed) == sorted(CONSUMERS)
    services = [r for name, r in ROLES.items() if name != OPERATOR]
    assert {s for r in services for s in owned_streams(r)} == {s.name for s in STREAMS}


def test_subject_patterns_cover_what_nats_would_match() -> None:
    assert covers("orders.>", "orders.placed") and covers("orders.>", "orders.a.b")
    assert not covers("orders.>", "orders") and not covers("orders.*", "orders.a.b")
    assert covers("matcher.fanout", "matcher.fanout") and not covers("matcher.fanout", "matcher.>")
    assert stream_of("dead.matcher-orders") == "DEAD"


def test_a_role_may_change_only_the_streams_it_publishes_to_and_read_only_its_consumers() -> None:
    ingest, matcher = permissions(ROLES["ingest"]), permissions(ROLES["matcher"])
    assert "$JS.API.STREAM.UPDATE.ORDERS" in ingest.publish
    assert "$JS.API.STREAM.CREATE.ORDERS" in matcher.publish
    assert "$JS.API.STREAM.UPDATE.ORDERS" not in matcher.publish
    assert not any("DELIVERIES" in s for s in ingest.publish + ingest.subscribe)
    assert not any("mailer-" in s for s in matcher.publish)
    assert ingest.subscribe == ["ingest.catalog.lookup", "_INBOX.ingest.>"]
    assert not permissions(ROLES["advisory"]).allow_responses
