"""Real product data through ingest, advisory, matcher and mailer: GTINs in every length,
quantities returned, a CAP point."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta
from typing import Any

import aiohttp
import asyncpg

from services.advisory.disasters import cap
from services.matcher import rules
from shared import db
from shared import messages as m
from shared.clock import Clock
from shared.config import Settings
from tests.service.test_matcher_kit import matcher, placed, published, shop, small
from tests.support.advisory import eventually, new_agency
from tests.support.fixtures import run_services
from tests.support.keys import channel_header
from tests.support.mailer import wait_states
from tests.support.shop import expect, order
from tests.support.smtp import SmtpSink

DAY = timedelta(days=1)


def _bought(order_id: str, customer: str, email: str, code: str, when: Any) -> dict[str, Any]:
    one = order(order_id, when, customer=customer, email=email, locale="en-US")
    one["lines"] = [{"sku": f"K-{order_id}", "gtin": code, "title": "Kettle", "quantity": 1}]
    return one


def _recall(gtins: list[str], embargo: Any) -> dict[str, Any]:
    return {
        "kind": "recall",
        "gtins": gtins,
        "title": {"en": "Kettle recall"},
        "body": {"en": "Stop using it."},
        "embargo_until": embargo.isoformat(),
    }


async def test_a_recall_reaches_the_same_product_written_in_another_length(
    settings: Settings, clock: Clock, smtp_sink: SmtpSink, http: aiohttp.ClientSession
) -> None:
    settings = small(settings)
    now = clock.now()
    async with contextlib.AsyncExitStack() as stack:
        urls = await run_services(stack, settings, clock, "ingest", "advisory", "matcher", "mailer")
        s = await stack.enter_async_context(shop(settings))
        web = await channel_header(settings)
        bought = [
            # The GTIN-14 of the recalled EAN-13, as a GS1 feed writes it.
            _bought("A-1", "c-gtin14", "hanako@example.jp", "04901234567894", now - 90 * DAY),
            # A UPC-A, recalled as its EAN-13.
            _bought("A-2", "c-upc", "taro@example.jp", "036000291452", now - 9 * DAY),
            # Another product.
            _bought("A-3", "c-other", "jiro@example.jp", "4901234567887", now - 9 * DAY),
        ]
        answer = await expect(
            await http.post(f"{urls['ingest']}/v1/orders", json=bought, headers=web), 202
        )
        assert answer["accepted"] == 3, answer
        await s.idle(clock)
        agency = await new_agency(settings, "Consumer Safety Institute")
        recall = _recall(["4901234567894", "0036000291452"], now + timedelta(minutes=1))
        created = await expect(
            await http.post(f"{urls['advisory']}/v1/advisories", json=recall, headers=agency), 201
        )
        clock.advance(timedelta(minutes=2))
        await smtp_sink.wait_for(2)
        await s.idle(clock)
        await wait_states(settings.database_url, {"sent": 2})
        await asyncio.sleep(1.0)
        kept = await expect(
            await http.get(f"{urls['advisory']}/v1/advisories/{created['id']}", headers=agency),
            200,
        )
    assert kept["rule"]["gtins"] == ["04901234567894", "00036000291452"]
    got = sorted(str(mail["To"].addresses[0].addr_spec) for mail in smtp_sink.messages)
    assert got == ["hanako@example.jp", "taro@example.jp"]


async def test_gtins_stored_before_gtin_14_are_padded_and_match(
    settings: Settings, clock: Clock
) -> None:
    pool = await db.create_pool(settings.database_url, "matcher")
    try:
        async with pool.acquire() as conn:
            # The schema as version 4 left it, with lines of an EAN-13 and of a UPC-A.
            await conn.execute(
                "CREATE SCHEMA IF NOT EXISTS matcher; CREATE TABLE matcher.schema_migrations ("
                " version int PRIMARY KEY, name text NOT NULL,"
                " applied_at timestamptz NOT NULL DEFAULT now())"
            )
            for version, name, sql in db.migrations_of("services.matcher"):
                if version <= 4:
                    await conn.execute(sql)
                    await conn.execute(
                        "INSERT INTO matcher.schema_migrations VALUES ($1, $2)", version, name
                    )
            await conn.execute(
                "INSERT INTO purchases (customer_id, bucket, channel, order_id, line_no,"
                " category, sku, gtin, placed_at, country)"
                " VALUES ('c-1', customer_bucket('c-1'), 'web', 'A', 1, 'heater', 'H',"
                " '4901234567894', now(), 'JP');"
                "INSERT INTO uncategorized_lines (channel, order_id, line_no, customer_id, bucket,"
                " sku, gtin, placed_at) VALUES ('web', 'B', 1, 'c-2', customer_bucket('c-2'),"
                " 'K', '036000291452', now()), ('web', 'C', 1, 'c-3', customer_bucket('c-3'),"
                " 'X', 'not-a-gtin', now());"
                "INSERT INTO rules (advisory_id, version, kind, rule, published_at) VALUES"
                ' (\'adv-1\', 1, \'recall\', \'{"kind": "recall", "gtins": ["96385074"]}\','
                " now())"
            )
        await db.migrate(pool, "matcher", "services.matcher")
        async with pool.acquire() as conn:
            rule = m.Recall(gtins=["04901234567894", "00036000291452"])
            w = rules.of(rule).audience(clock.now(), timedelta(0))
            reached = await conn.fetch(
                f"SELECT customer_id FROM {w.source} WHERE {w.sql} ORDER BY 1", *w.params
            )
            kept = await conn.fetchval("SELECT rule->'gtins' FROM rules")
            other = await conn.fetchval("SELECT gtin FROM uncategorized_lines WHERE sku = 'X'")
    finally:
        await pool.close()
    assert [r["customer_id"] for r in reached] == ["c-1", "c-2"]
    assert kept == '["00000096385074"]'
    assert other == "not-a-gtin"


async def test_a_wrong_check_digit_is_refused_naming_the_field(
    settings: Settings, clock: Clock, http: aiohttp.ClientSession
) -> None:
    async with contextlib.AsyncExitStack() as stack:
        urls = await run_services(stack, settings, clock, "ingest", "advisory")
        web = await channel_header(settings)
        catalog = await channel_header(settings, "pim", catalog=True)
        good = _bought("A-1", "c-1", "a@example.jp", "4901234567894", clock.now() - DAY)
        bad = _bought("A-2", "c-2", "b@example.jp", "4901234567895", clock.now() - DAY)
        answer = await expect(
            await http.post(f"{urls['ingest']}/v1/orders", json=[good, bad], headers=web), 202
        )
        assert answer["accepted"] == 1
        assert answer["rejected"] == [
            {
                "index": 1,
                "errors": [
                    {
                        "field": "lines[0].gtin",
                        "problem": "wrong check digit 5 (GS1 mod 10 gives 4)",
                    }
                ],
            }
        ]
        entries = [
            {"sku": "K-1", "gtin": "036000291452", "title": "Kettle", "categories": []},
            {"sku": "K-2", "gtin": "036000291453", "title": "Kettle", "categories": []},
        ]
        written = await expect(
            await http.put(f"{urls['ingest']}/v1/catalog", json=entries, headers=catalog), 200
        )
        assert written["written"] == 1
        assert written["rejected"] == [
            {
                "index": 1,
                "errors": [
                    {"field": "gtin", "problem": "wrong check digit 3 (GS1 mod 10 gives 2)"}
                ],
            }
        ]
        agency = await new_agency(settings, "Consumer Safety Institute")
        recall = _recall(["4901234567894", "49012345678"], clock.now() + DAY)
        refused = await expect(
            await http.post(f"{urls['advisory']}/v1/advisories", json=recall, headers=agency), 400
        )
        assert refused["details"] == [
            {"field": "gtins[1]", "problem": "11 digits: a GTIN has 8, 12, 13 or 14"}
        ]
        stored = await eventually(lambda: _catalog_gtin(settings, "K-1"))
    assert stored == "00036000291452"


async def _catalog_gtin(settings: Settings, sku: str) -> str:
    conn = await asyncpg.connect(settings.database_url)
    try:
        return str(await conn.fetchval("SELECT gtin FROM ingest.catalog WHERE sku = $1", sku))
    finally:
        await conn.close()


async def test_a_return_voids_only_the_quantity_returned(
    settings: Settings, clock: Clock, smtp_sink: SmtpSink, http: aiohttp.ClientSession
) -> None:
    settings = small(settings)
    now = clock.now()

    def kettles(order_id: str, customer: str, email: str, *quantities: int) -> dict[str, Any]:
        one = order(order_id, now - 20 * DAY, customer=customer, email=email, locale="en-US")
        one["lines"] = [{"sku": "K-1", "title": "Kettle", "quantity": q} for q in quantities]
        return one

    async with contextlib.AsyncExitStack() as stack:
        urls = await run_services(stack, settings, clock, "ingest", "matcher", "mailer")
        s = await stack.enter_async_context(shop(settings))
        web = await channel_header(settings)
        bought = [
            kettles("A-1", "c-one-back", "hanako@example.jp", 2),
            kettles("A-2", "c-both-back", "taro@example.jp", 2),
            kettles("A-3", "c-sku-back", "jiro@example.jp", 1, 1),
            kettles("A-4", "c-two-returns", "saburo@example.jp", 2),
        ]
        answer = await expect(
            await http.post(f"{urls['ingest']}/v1/orders", json=bought, headers=web), 202
        )
        assert answer["accepted"] == 4, answer

        async def back(order_id: str, body: dict[str, Any], accepted: int = 1) -> None:
            url = f"{urls['ingest']}/v1/orders/web/{order_id}/return"
            answer = await expect(await http.post(url, json=body, headers=web), 202)
            assert answer["accepted"] == accepted, answer

        await back("A-1", {"lines": [{"line_no": 1, "quantity": 1}]})  # one of two
        await back("A-2", {"lines": [{"sku": "K-1", "quantity": 2}]})  # both
        await back("A-3", {"lines": [{"sku": "K-1", "quantity": 1}]})  # one line of the two
        await back("A-4", {"lines": [{"line_no": 1, "quantity": 1}], "ref": "RMA-1"})
        await back("A-4", {"lines": [{"line_no": 1, "quantity": 1}], "ref": "RMA-1"}, 0)  # again
        await back("A-4", {"lines": [{"line_no": 1, "quantity": 1}], "ref": "RMA-2"})  # the other
        refused = await http.post(
            f"{urls['ingest']}/v1/orders/web/A-1/return",
            json={"lines": [{"line_no": 1, "quantity": 3}]},
            headers=web,
        )
        assert (await expect(refused, 400))["details"] == [
            {"field": "lines[0].quantity", "problem": "line 1 has a quantity of 2"}
        ]
        await s.idle(clock)
        recall = m.Recall(skus=["K-1"])
        await s.send(published("adv-kettle", recall, clock.now()))
        await smtp_sink.wait_for(2)
        await s.idle(clock)
        await wait_states(settings.database_url, {"sent": 2})
        await asyncio.sleep(1.0)
    got = sorted(str(mail["To"].addresses[0].addr_spec) for mail in smtp_sink.messages)
    assert got == ["hanako@example.jp", "jiro@example.jp"]


async def test_a_point_reaches_the_addresses_at_the_place_and_no_further(
    settings: Settings, clock: Clock
) -> None:
    settings = small(settings)
    now = clock.now()
    gen = ["portable_generator"]
    playbook = m.Disaster(categories=gen, hazards=["earthquake"])
    # Coordinates travel rounded to two decimals: 32.95,-115.56 is an address at the point.
    here = m.Location(country="US", region="US-CA", lat=32.95, lon=-115.56)
    town = m.Location(country="US", region="US-CA", lat=32.98, lon=-115.53)  # 3.8 km away
    quake = m.DisasterDeclared(
        event_id="eq-brawley",
        hazard="earthquake",
        title="EQ 3.4 Imperial County CA",
        occurred_at=now,
        # As the CAP example's `<circle>32.9525,-115.5527 0</circle>` is read.
        areas=[m.Circle(lat=32.9525, lon=-115.5527, radius_km=cap.POINT_RADIUS_KM)],
        countries=["US"],
        advisory_ids=["adv-gen"],
    )
    async with shop(settings) as s, matcher(settings, clock):
        await s.send(published("adv-gen", playbook, now))
        await s.send(placed("c-here", now - 9 * DAY, gen, where=here))
        await s.send(placed("c-town", now - 9 * DAY, gen, where=town))
        await s.idle(clock)
        await s.send(quake)
        assert await s.wait_for("adv-gen", 1) == ["c-here"]
        await s.idle(clock)
        assert await s.requested("adv-gen") == ["c-here"]
