"""How ingest packs placed orders into bus messages."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import msgspec

from services.ingest import publishing
from services.ingest.model import Order, Rejection
from services.ingest.normalize import MAX_LINES, MAX_TITLE, Prepared, prepare
from shared import bus
from shared import messages as m
from shared.bus import Subjects
from tests.support.shop import order

NOW = datetime(2024, 1, 1, 7, 10, tzinfo=UTC)
_decode = m.decoder(m.OrderEvent).decode


def _prepared(order_id: str, title: str = "Honey 500 g") -> Prepared:
    raw = order(order_id, NOW)
    raw["lines"] = [{"sku": "HNY-500", "title": title, "quantity": 1}]
    ready = prepare(msgspec.convert(raw, Order), b"k" * 32)
    assert isinstance(ready, Prepared)
    ready.categories = [(["honey"], "rule")]
    return ready


def test_one_order_is_its_own_fact() -> None:
    [(subject, msg_id, payload)] = publishing.placed_many([_prepared("A-1")])
    assert (subject, msg_id) == (Subjects.ORDERS_PLACED, "order:web:A-1:placed")
    fact = _decode(payload)
    assert isinstance(fact, m.OrderPlaced) and fact.lines[0].categories == ["honey"]


def test_an_order_on_the_bus_carries_only_a_coarse_location() -> None:
    ready = _prepared("A-1")
    ready.order.ship_to.lat, ready.order.ship_to.lon = 37.391234, 136.905678
    [(_, _, payload)] = publishing.placed_many([ready])
    # No coordinate finer than two decimals (about 1 km), and no postal code, in the bytes.
    numbers = re.findall(rb"-?\d+\.(\d+)", payload)
    assert numbers and all(len(decimals) <= 2 for decimals in numbers)
    assert b"927" not in payload
    fact = _decode(payload)
    assert isinstance(fact, m.OrderPlaced)
    assert (fact.location.region, fact.location.lat, fact.location.lon) == ("JP-17", 37.39, 136.91)
    assert fact.location.postal_code is None
    assert ready.order.ship_to.postal_code == "927-1214"  # ingest keeps it


def test_many_orders_travel_in_batches_of_bounded_size() -> None:
    count = publishing.BATCH_ORDERS + 20
    many = [_prepared(f"A-{n}") for n in range(count)]
    out = publishing.placed_many(many)
    assert [subject for subject, _, _ in out] == [Subjects.ORDERS_BATCH] * 2
    batches = [_decode(payload) for _, _, payload in out]
    assert all(isinstance(b, m.OrderBatch) for b in batches)
    ids = [o.order_id for b in batches for o in b.orders]
    assert ids == [f"A-{n}" for n in range(count)]
    assert out == publishing.placed_many(many)  # the same batch gets the same message ids
    assert len({msg_id for _, msg_id, _ in out}) == 2

    # Orders with very long titles are split until each message fits.
    long = [_prepared(f"L-{n}", title="語" * MAX_TITLE) for n in range(600)]
    split = publishing.placed_many(long)
    assert len(split) > 2
    assert all(len(payload) <= bus.batch_bytes() for _, _, payload in split)
    orders = [o.order_id for _, _, p in split for o in _decode(p).orders]
    assert orders == [f"L-{n}" for n in range(600)]


def test_contacts_travel_alone_or_in_customer_batches() -> None:
    decode = m.decoder(m.CustomerEvent).decode
    [(subject, msg_id, payload)] = publishing.customers_many([_prepared("A-1")])
    assert (subject, msg_id) == (Subjects.customer_upserted("c-42"), "customer:c-42:web:A-1")
    assert subject.startswith("customers.upserted.") and "c-42" not in subject
    assert decode(payload) == m.CustomerUpserted(
        customer_id="c-42",
        email="hanako@example.jp",
        locale="ja-JP",
        timezone="Asia/Tokyo",
        name="Hanako",
        updated_at=NOW,
    )
    count = publishing.BATCH_CUSTOMERS * 2 + 1
    people = [_prepared(f"A-{n}") for n in range(count)]
    for n, p in enumerate(people):
        p.order.customer.id = f"c-{n}"
    out = publishing.customers_many(people)
    # Each batch on a subject of its own: one message per subject never drops one.
    assert [subject.rpartition(".")[0] for subject, _, _ in out] == [Subjects.CUSTOMERS_BATCH] * 3
    assert len({subject for subject, _, _ in out}) == 3
    batches = [decode(payload) for _, _, payload in out]
    assert [c.customer_id for b in batches for c in b.customers] == [f"c-{n}" for n in range(count)]
    assert out == publishing.customers_many(people)  # the same facts, the same message ids
    assert len({msg_id for _, msg_id, _ in out}) == 3


def test_an_order_too_large_for_one_message_is_refused() -> None:
    raw = order("BIG", NOW)
    raw["lines"] = [{"sku": f"S-{n}", "title": "t"} for n in range(MAX_LINES + 1)]
    raw["lines"][3]["title"] = "x" * (MAX_TITLE + 1)
    refused = prepare(msgspec.convert(raw, Order), b"k" * 32)
    assert isinstance(refused, Rejection)
    assert [e["field"] for e in refused.errors] == ["lines", "lines[3].title"]

    # The largest order accepted still fits one message.
    raw["lines"] = [{"sku": f"S-{n}", "title": "語" * MAX_TITLE} for n in range(MAX_LINES)]
    ready = prepare(msgspec.convert(raw, Order), b"k" * 32)
    assert isinstance(ready, Prepared)
    ready.categories = [([], "none")] * MAX_LINES
    [(_, _, payload)] = publishing.placed_many([ready])
    assert len(payload) <= bus.batch_bytes()
