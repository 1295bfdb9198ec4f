"""Orders from three channels into one canonical stream of facts, against real servers."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import aiohttp
import asyncpg
import msgspec
from nats.aio.client import Client

from services.ingest import people
from services.ingest.app import build
from services.ingest.intake import email_secret
from shared import bus
from shared import messages as m
from shared.clock import Clock
from shared.config import Settings
from tests.support.advisory import operator
from tests.support.fixtures import running
from tests.support.keys import channel_header
from tests.support.shop import expect, order

NDJSON = {"Content-Type": "application/x-ndjson"}
_decoder = m.decoder(m.OrderEvent | m.CustomerEvent)


async def stored(nc: Client, stream: str, count: int, timeout: float = 10.0) -> list[Any]:
    """Wait until `stream` holds `count` facts; return (Nats-Msg-Id, fact) of each.

    The orders of an `orders.batch` message, and the contacts of a `customers.batch`, are
    facts of their own, under the batch's id.
    """
    js = nc.jetstream()
    seen = 0
    found: list[tuple[str | None, Any]] = []
    async with asyncio.timeout(timeout):
        while len(found) < count:
            info = await js.stream_info(stream)
            for seq in range(max(seen + 1, info.state.first_seq), info.state.last_seq + 1):
                raw = await js.get_msg(stream, seq)
                msg_id = (raw.headers or {}).get("Nats-Msg-Id")
                fact = _decoder.decode(raw.data or b"")
                if isinstance(fact, m.OrderBatch | m.CustomerBatch):
                    batch = fact.orders if isinstance(fact, m.OrderBatch) else fact.customers
                else:
                    batch = [fact]
                found += [(msg_id, f) for f in batch]
                seen = seq
            if len(found) < count:
                await asyncio.sleep(0.05)
    return found


def grocery_order() -> dict[str, Any]:
    """Honey bought on the grocery channel, in its own format and local time."""
    return {
        "orderNo": "G-778",
        "orderedAt": "2024-01-01T16:10:00+09:00",
        "member": {
            "memberId": "c-42",
            "mail": "Hanako@Example.JP",
            "lang": "ja_JP",
            "name": "花子",
        },
        "delivery": {
            "address": {"country": "JP", "prefecture": "石川県", "zip": "９２７－１２１４"},
            "geo": {"latitude": 37.39, "longitude": 136.90},
        },
        "items": [{"itemCode": "HNY-500", "jan": "4901234567894", "itemName": "国産はちみつ 500g"}],
    }


MARKETPLACE_CSV = (
    "order-id,purchase-date,order-status,buyer-id,buyer-email,buyer-name,sku,product-name,"
    "quantity-purchased,ship-country,ship-state,ship-postal-code\n"
    "M-1,2024-01-03T09:00:00Z,Shipped,AMZ-9,hanako@example.jp,花子,DIA-M,Diapers M,2,JP,,9271214\n"
    "M-1,2024-01-03T09:00:00Z,Shipped,AMZ-9,hanako@example.jp,花子,MUG-1,Mug,1,JP,,9271214\n"
)


async def test_three_channels_make_one_customer_and_coarse_locations(
    settings: Settings, clock: Clock, http: aiohttp.ClientSession
) -> None:
    nc = await bus.connect(settings.nats_url, "test")
    try:
        await _three_channels(settings, clock, http, nc)
    finally:
        await nc.close()


async def _three_channels(
    settings: Settings, clock: Clock, http: aiohttp.ClientSession, nc: Client
) -> None:
    grocery, mall, web = [await channel_header(settings, n) for n in ("grocery", "mall", "web")]
    async with running(build, settings, clock, settings.ingest_port) as ingest:
        catalog = [{"sku": "DIA-M", "title": "Diapers", "categories": ["baby_products"]}]
        headers = operator(settings)
        await expect(await http.put(f"{ingest}/v1/catalog", json=catalog, headers=headers), 200)
        url = f"{ingest}/v1/orders"
        answer = await expect(
            await http.post(f"{url}?format=grocery", json=grocery_order(), headers=grocery), 202
        )
        assert answer == {"accepted": 1, "duplicates": 0, "rejected": [], "unlocated": []}
        # A channel's own format names no channel: the key's is taken.
        csv = MARKETPLACE_CSV.encode()
        answer = await expect(
            await http.post(f"{url}?format=marketplace", data=csv, headers=mall), 202
        )
        assert answer == {"accepted": 1, "duplicates": 0, "rejected": [], "unlocated": []}
        us = order("W-1", clock.now(), customer="c-7", locale="", email="jo@example.com")
        us["customer"]["timezone"] = ""
        us["ship_to"] = {"country": "US", "postal_code": "94103"}
        us["lines"] = [{"sku": "GEN-2", "title": "Portable inverter generator", "quantity": 1}]
        await expect(await http.post(url, json=us, headers=web), 202)

        placed = {msg.order_id: msg for _, msg in await stored(nc, "ORDERS", 3)}
        honey, diapers, generator = placed["G-778"], placed["M-1"], placed["W-1"]
        assert (honey.channel, diapers.channel, generator.channel) == ("grocery", "mall", "web")
        assert honey.customer_id == diapers.customer_id == "c-42"  # linked by e-mail
        assert honey.placed_at.isoformat() == "2024-01-01T07:10:00+00:00"
        assert [line.categories for line in honey.lines] == [["honey"]]
        assert [(line.line_no, line.sku, line.categories) for line in diapers.lines] == [
            (1, "DIA-M", ["baby_products"]),
            (2, "MUG-1", []),  # in no category: published for a recall by SKU or GTIN
        ]
        # Coarse on the bus: the region, the municipality or county, coordinates to about
        # 1 km, no postal code.
        assert honey.location == m.Location(
            country="JP", region="JP-17", lat=37.39, lon=136.9, area_code="17205"
        )
        assert (diapers.location.region, diapers.location.lat) == ("JP-17", 36.77)  # centroid
        assert diapers.location.area_code == "17205"  # Suzu, from the CSV's 9271214
        assert (generator.location.region, generator.location.lat) == ("US-CA", 37.77)
        assert generator.location.area_code == "06075"  # San Francisco County
        assert generator.lines[0].categories == ["portable_generator"]

        # The same contact data from the second channel is not published again.
        people = {msg.customer_id: msg for _, msg in await stored(nc, "CUSTOMERS", 2)}
        assert set(people) == {"c-42", "c-7"}
        hanako, jo = people["c-42"], people["c-7"]
        assert (hanako.email, hanako.locale, hanako.timezone) == (
            "hanako@example.jp",
            "ja-JP",
            "Asia/Tokyo",
        )
        assert (jo.locale, jo.timezone) == ("en-US", "America/Los_Angeles")

    conn = await asyncpg.connect(settings.database_url)
    try:
        audit = await conn.fetch(
            "SELECT order_id, l->>'sku' sku, l->>'categorized_by' categorized_by"
            " FROM ingest.orders, json_array_elements(lines) l"
            " ORDER BY order_id, (l->>'line_no')::int"
        )
        rows = await conn.fetch("SELECT order_id, geo_source FROM ingest.orders")
        sources: dict[str, str] = {r["order_id"]: r["geo_source"] for r in rows}
        columns = await conn.fetch(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = 'ingest'"
        )
    finally:
        await conn.close()
    assert [(r["sku"], r["categorized_by"]) for r in audit] == [
        ("HNY-500", "rule"),
        ("DIA-M", "catalog"),
        ("MUG-1", "none"),
        ("GEN-2", "rule"),
    ]
    assert sources == {"G-778": "order", "M-1": "region", "W-1": "postal_code"}
    assert not any("mail" in r["column_name"] and "key" not in r["column_name"] for r in columns)


async def test_a_buyer_first_seen_on_the_marketplace_is_linked_once_the_shop_knows_them(
    settings: Settings, clock: Clock, http: aiohttp.ClientSession
) -> None:
    header = MARKETPLACE_CSV.splitlines()[0]

    def report(order_id: str) -> bytes:
        row = [order_id, "2024-02-01T09:00:00Z", "Shipped", "AMZ-77", "taro@example.jp", ""]
        row += ["HNY-500", "Honey", "1", "JP", "", ""]
        return f"{header}\n{','.join(row)}\n".encode()

    mall, web = await channel_header(settings, "marketplace"), await channel_header(settings)
    nc = await bus.connect(settings.nats_url, "test")
    try:
        async with running(build, settings, clock, settings.ingest_port) as ingest:
            url = f"{ingest}/v1/orders?format=marketplace"
            await expect(await http.post(url, data=report("M-10"), headers=mall), 202)
            shop = order("W-77", clock.now(), customer="c-77", email="taro@example.jp")
            await expect(await http.post(f"{ingest}/v1/orders", json=shop, headers=web), 202)
            await expect(await http.post(url, data=report("M-11"), headers=mall), 202)
            placed = {msg.order_id: msg for _, msg in await stored(nc, "ORDERS", 3)}
    finally:
        await nc.close()
    assert placed["M-10"].customer_id == "marketplace:AMZ-77"  # the shop did not know them yet
    assert placed["M-11"].customer_id == placed["W-77"].customer_id == "c-77"


async def test_an_order_sent_again_hours_later_is_a_duplicate(
    settings: Settings, clock: Clock, http: aiohttp.ClientSession
) -> None:
    nc = await bus.connect(settings.nats_url, "test")
    first, second = order("A-1", clock.now()), order("A-2", clock.now(), customer="c-8")
    web = await channel_header(settings)
    async with running(build, settings, clock, settings.ingest_port) as ingest, _closing(nc):
        url = f"{ingest}/v1/orders"

        body = b"".join(msgspec.json.encode(o) + b"\n" for o in (first, second, first))
        answer = await expect(await http.post(url, data=body, headers=NDJSON | web), 202)
        assert answer == {"accepted": 2, "duplicates": 1, "rejected": [], "unlocated": []}
        await stored(nc, "ORDERS", 2)
        clock.advance(timedelta(hours=5))  # far beyond the broker's duplicate window
        answer = await expect(await http.post(url, json=first, headers=web), 202)
        assert answer == {"accepted": 0, "duplicates": 1, "rejected": [], "unlocated": []}
        await asyncio.sleep(1.5)
        facts = await stored(nc, "ORDERS", 2)
        assert [fact.order_id for _, fact in facts] == ["A-1", "A-2"]
        assert len({msg_id for msg_id, _ in facts}) == 1  # one orders.batch message
        assert facts[0][0].startswith("order-batch:")

        # The same id with other lines is not the same order: refused by name, in a batch
        # (a twin of an order of the same batch) and later (against the stored one).
        changed = order("A-1", clock.now(), sku="GEN-1600")
        third = order("A-3", clock.now())
        third_changed = order("A-3", clock.now(), sku="HNY-500")
        body = b"".join(msgspec.json.encode(o) + b"\n" for o in (changed, third, third_changed))
        answer = await expect(await http.post(url, data=body, headers=NDJSON | web), 202)
        assert answer["accepted"] == 1 and answer["duplicates"] == 0, answer
        assert [r["index"] for r in answer["rejected"]] == [0, 2]
        assert {e["field"] for r in answer["rejected"] for e in r["errors"]} == {"order_id"}
        assert "other lines" in answer["rejected"][0]["errors"][0]["problem"]


async def test_contact_data_of_an_older_order_never_replaces_that_of_a_newer_one(
    settings: Settings, clock: Clock, http: aiohttp.ClientSession
) -> None:
    # Two days back: the newer order, a day later, must not be ahead of ingest's clock.
    t0 = (clock.now() - timedelta(days=2)).replace(microsecond=123457)

    def bought(order_id: str, customer: str, email: str, at: timedelta) -> dict[str, Any]:
        return order(order_id, t0 + at, customer=customer, email=email)

    first = [
        bought("K-1", "c-1", "one@example.jp", timedelta(0)),
        bought("K-2", "c-2", "two@example.jp", timedelta(seconds=1)),
        bought("K-3", "c-3", "three@example.jp", timedelta(seconds=2)),
    ]
    later = [
        bought("K-4", "c-2", "two-old@example.jp", timedelta(microseconds=-1)),  # older
        bought("K-5", "c-3", "three-new@example.jp", timedelta(days=1)),  # newer
    ]
    nc = await bus.connect(settings.nats_url, "test")
    headers = NDJSON | await channel_header(settings)
    async with running(build, settings, clock, settings.ingest_port) as ingest, _closing(nc):
        for batch in (first, later):
            body = b"".join(msgspec.json.encode(o) + b"\n" for o in batch)
            answer = await expect(
                await http.post(f"{ingest}/v1/orders", data=body, headers=headers), 202
            )
            assert answer["accepted"] == len(batch), answer
        facts = await stored(nc, "CUSTOMERS", 4)
    assert [(f.customer_id, f.email) for _, f in facts] == [
        ("c-1", "one@example.jp"),
        ("c-2", "two@example.jp"),
        ("c-3", "three@example.jp"),
        ("c-3", "three-new@example.jp"),  # c-2's older address was not published
    ]
    conn = await asyncpg.connect(settings.database_url)
    try:
        rows = await conn.fetch(
            "SELECT customer_id, email_key, contact_key, seen_at FROM ingest.customers"
            " ORDER BY customer_id"
        )
    finally:
        await conn.close()
    secret = email_secret(settings.secret_key)
    newest = [first[0], first[1], later[1]]  # each customer's kept contact data
    assert [tuple(r) for r in rows] == [
        (
            o["customer"]["id"],
            people.email_key(secret, o["customer"]["email"]),
            people.contact_key(o["customer"]["email"], "ja-JP", "Asia/Tokyo", "Hanako"),
            datetime.fromisoformat(o["placed_at"]),  # to the microsecond
        )
        for o in newest
    ]


@contextlib.asynccontextmanager
async def _closing(nc: Client) -> AsyncIterator[Client]:
    try:
        yield nc
    finally:
        await nc.close()
