"""Pure parts of the bus: topology, roles and their permissions, backoff, message sizes and
batches split by size."""

from __future__ import annotations

import ast
import importlib
import json
from collections.abc import Sequence
from pathlib import Path

import pytest
from nats.js.errors import APIError, ServiceUnavailableError

from shared.bus import (
    CONSUMERS,
    OUTBOX_DEAD_SUBJECT,
    STREAMS,
    Subjects,
    channels,
    split,
    wire_size,
)
from shared.bus.consumer import backoff
from shared.bus.permissions import covers, owned_streams, permissions, stream_of
from shared.bus.roles import OPERATOR, ROLES
from shared.bus.topology import EXHAUSTED_BY, EXHAUSTED_STREAM
from shared.outbox_dead import refused

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


def _encode(items: Sequence[str]) -> bytes:
    return json.dumps({"items": list(items)}).encode()


def test_batches_are_split_by_count_and_by_encoded_size() -> None:
    items = [f"{n:03d}" + "x" * (n % 7) * 10 for n in range(95)]
    parts = split(items, _encode, most=20, limit=300)
    assert [i for part, _ in parts for i in part] == items  # all, once, in order
    assert all(len(part) <= 20 for part, _ in parts)
    assert all(payload == _encode(part) for part, payload in parts)
    assert all(len(payload) <= 300 for _, payload in parts)
    assert len(parts) > 95 // 20 + 1  # the count alone would have made 5


def test_an_item_too_large_alone_stays_alone_and_the_others_are_packed() -> None:
    items = ["a", "b", "c", "x" * 500, "d", "e"]
    parts = split(items, _encode, most=500, limit=100)
    assert [list(part) for part, _ in parts if "x" * 500 in part] == [["x" * 500]]
    assert [i for part, _ in parts for i in part] == items
    assert len(parts) <= 4
    assert split(items[:3], _encode, most=500, limit=100) == [(items[:3], _encode(items[:3]))]


def test_the_wire_size_counts_the_header_block() -> None:
    # NATS/1.0\r\n, "Nats-Msg-Id: abc\r\n", \r\n: the server counts it with the payload.
    assert wire_size(b"12345", {"Nats-Msg-Id": "abc"}) == 10 + 18 + 2 + 5
    assert wire_size(b"12345", {}) == 5


def test_outbox_notices_go_to_the_dead_letter_stream() -> None:
    dead = next(s for s in STREAMS if s.name == "DEAD")
    assert dead.subjects == ["dead.>"]
    assert OUTBOX_DEAD_SUBJECT.format(schema="ingest").startswith("dead.")


def test_only_a_refusal_of_the_message_counts_against_it() -> None:
    assert refused(APIError(code=400, err_code=10054, description="message size exceeds maximum"))
    assert not refused(ServiceUnavailableError(code=503, description="no leader"))
    assert not refused(TimeoutError())


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
            # A typed channel names its subject, an inbox its durable (shared/bus/channels.py).
            if isinstance(node, ast.Attribute) and getattr(node.value, "id", "") == "channels":
                typed = getattr(channels, node.attr)
                if isinstance(typed, channels.Channel):
                    subjects.add(typed.subject)
                elif isinstance(typed, channels.Inbox):
                    durables.add(typed.durable)
    return subjects, durables


@pytest.mark.parametrize("service", ["ingest", "advisory", "matcher", "mailer"])
def test_each_role_is_what_its_service_does_on_the_bus(service: str) -> None:
    role = ROLES[service]
    subjects, durables = _named_in(service)
    assert subjects == {*role.publishes, *role.asks, *role.answers}
    # and the watcher of its consumers' exhausted deliveries, started by shared.service
    watchers = {EXHAUSTED_BY[d] for d in durables if d in EXHAUSTED_BY}
    assert durables | watchers == set(role.consumes)


def test_every_consumer_belongs_to_one_role_and_every_stream_has_a_publisher() -> None:
    consumed = [d for role in ROLES.values() for d in role.consumes]
    assert sorted(consumed) == sorted(CONSUMERS)
    services = [r for name, r in ROLES.items() if name != OPERATOR]
    published = {s.name for s in STREAMS} - {EXHAUSTED_STREAM}  # the server publishes there
    assert {s for r in services for s in owned_streams(r)} == published


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


@pytest.mark.parametrize("service", ["ingest", "advisory", "matcher", "mailer"])
def test_each_service_may_announce_the_rows_its_outbox_sets_aside(service: str) -> None:
    app = ROOT / "services" / service / "app.py"
    schema = importlib.import_module(f"services.{service}.app").SCHEMA
    relays = "outbox=True" in app.read_text()
    assert ROLES[service].outboxes == ([schema] if relays else [])
    allowed = permissions(ROLES[service]).publish
    assert (OUTBOX_DEAD_SUBJECT.format(schema=schema) in allowed) == relays
    # and the operators' backfill, which relays ingest's outbox as ingest does
    assert OUTBOX_DEAD_SUBJECT.format(schema="ingest") in permissions(ROLES[OPERATOR]).publish
