"""Text from outside never becomes a header of its sender's choosing."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta

import aiohttp
import asyncpg

from services.mailer.app import build
from shared import messages as m
from shared.clock import Clock
from shared.config import Settings
from tests.support.advisory import new_agency
from tests.support.fixtures import run_services, running
from tests.support.keys import channel_header
from tests.support.mailer import advisory, deliveries, eventually, nats, publish_contact
from tests.support.parts import part_text
from tests.support.shop import expect, order, power_bank_advisory
from tests.support.smtp import SmtpSink

HOSTILE = "A\r\nReply-To: x@evil"


async def test_a_name_with_a_line_break_on_the_bus_is_mailed_without_a_new_header(
    settings: Settings, clock: Clock, smtp_sink: SmtpSink
) -> None:
    async with running(build, settings, clock, settings.mailer_port), nats(settings.nats_url) as nc:
        contact = m.CustomerUpserted(customer_id="c-1", email="hanako@example.jp", name=HOSTILE)
        await publish_contact(nc, contact)
        await advisory(nc, "adv-1")
        await deliveries(nc, "adv-1", ["c-1"])
        [mail] = await smtp_sink.wait_for(1)
        assert "Reply-To" not in mail
        assert mail["To"].addresses[0].addr_spec == "hanako@example.jp"
        assert mail["To"].addresses[0].display_name == "A Reply-To: x@evil"


async def test_a_stored_name_with_a_line_break_is_refused_with_its_reason_in_the_ledger(
    settings: Settings, clock: Clock, smtp_sink: SmtpSink
) -> None:
    async with running(build, settings, clock, settings.mailer_port), nats(settings.nats_url) as nc:
        # A contact stored before names were cleaned where they enter.
        conn = await asyncpg.connect(settings.database_url)
        try:
            await conn.execute(
                "INSERT INTO mailer.contacts (customer_id, email, name) VALUES ($1, $2, $3)",
                "c-old",
                "taro@example.jp",
                HOSTILE,
            )

            await advisory(nc, "adv-1")
            await deliveries(nc, "adv-1", ["c-old"])

            async def refused() -> str | None:
                error: str | None = await conn.fetchval(
                    "SELECT error FROM mailer.deliveries WHERE customer_id = 'c-old'"
                    " AND state = 'deferred'"
                )
                return error

            await eventually(refused)
            assert await refused() == (
                "nothing to send: the To header holds a control character (U+000D)"
            )
        finally:
            await conn.close()
        await asyncio.sleep(0.5)
        assert smtp_sink.messages == []


async def test_a_hostile_name_given_to_ingest_reaches_the_mailbox_as_a_name(
    settings: Settings, clock: Clock, smtp_sink: SmtpSink, http: aiohttp.ClientSession
) -> None:
    async with contextlib.AsyncExitStack() as stack:
        urls = await run_services(stack, settings, clock, "ingest", "advisory", "matcher", "mailer")
        ingest, advisory_url = urls["ingest"], urls["advisory"]
        catalog = [{"sku": "PB-1", "title": "Power bank", "categories": ["power_bank"]}]
        catalog_key = await channel_header(settings, "shop-catalog", catalog=True)
        web = await channel_header(settings, "web")
        await expect(await http.put(f"{ingest}/v1/catalog", json=catalog, headers=catalog_key), 200)
        the_order = order("A-1", clock.now() - timedelta(days=1))
        the_order["customer"]["name"] = HOSTILE
        await expect(await http.post(f"{ingest}/v1/orders", json=the_order, headers=web), 202)
        agency = await new_agency(settings, "Consumer Safety Institute")
        advice = power_bank_advisory(clock.now() + timedelta(seconds=30))
        await expect(
            await http.post(f"{advisory_url}/v1/advisories", json=advice, headers=agency), 201
        )
        clock.advance(timedelta(seconds=31))

        [mail] = await smtp_sink.wait_for(1)
        assert "Reply-To" not in mail
        assert mail["To"].addresses[0].display_name == "A Reply-To: x@evil"
        assert "A Reply-To: x@evil" in part_text(mail, "plain")
