"""Security of what customers give us: headers stay ours, the bus stays coarse and forgetful.

Shoppers whose names and product titles try to add mail headers buy a power bank from exact
coordinates; an advisory reaches them. No mail carries a header they chose, no order on the
bus is finer than about 1 km or names a postal code, and once the mailer has taken their
addresses in, the bus holds none. Two-part unsubscribe links from an old inbox never
unsubscribe an address taken since.
"""

from __future__ import annotations

import contextlib
from datetime import datetime, timedelta
from typing import Any

import aiohttp
import asyncpg
import msgspec

from services.mailer.app import build as build_mailer
from shared import messages as m
from shared.clock import Clock
from shared.config import Settings
from tests.support.advisory import new_agency
from tests.support.figures import record
from tests.support.fixtures import run_services, running
from tests.support.keys import channel_header
from tests.support.mailer import advisory, customers, deliveries, eventually, nats, publish_contact
from tests.support.shop import expect, order, power_bank_advisory
from tests.support.smtp import SmtpSink

# Every way a line can end for one parser or another (a NUL is refused whole, elsewhere),
# each followed by a header of its own.
BREAKS = ["\r\n", "\n", "\r", "\x85", "\u2028", "\u2029", "\x0b", "\x0c", "\r\n\t", "\x1c", "\x1e"]
INJECTED = ("reply-to", "bcc", "cc", "x-injected")
# What compose writes, and aiosmtpd's own trace header.
OURS = {
    "from", "to", "subject", "date", "message-id", "content-language", "list-id",
    "list-unsubscribe", "list-unsubscribe-post", "x-anshin-advisory", "mime-version",
    "content-type", "x-peer", "x-mailfrom", "x-rcptto",
}  # fmt: skip


def _shopper(n: int, placed_at: datetime) -> dict[str, Any]:
    crlf = BREAKS[n % len(BREAKS)]
    placed = order(f"H-{n}", placed_at)
    placed["customer"] = {
        "id": f"h-{n}", "email": f"shopper{n}@example.jp", "locale": "en-GB",
        "timezone": "Asia/Tokyo", "name": f"Shopper{n}{crlf}Reply-To: x{n}@evil.example",
    }  # fmt: skip
    placed["ship_to"] = {
        "country": "JP", "region": "JP-17", "postal_code": "927-1214",
        "lat": 37.391234 + n / 1e6, "lon": 136.905678,
    }  # fmt: skip
    placed["lines"] = [
        {"sku": "PB-1", "title": f"Power bank{crlf}Bcc: all{n}@evil.example", "quantity": 1}
    ]
    return placed


def _placed(fact: m.OrderEvent) -> list[m.OrderPlaced]:
    if isinstance(fact, m.OrderBatch):
        return fact.orders
    return [fact] if isinstance(fact, m.OrderPlaced) else []


async def _facts(nc: object, stream: str) -> list[bytes]:
    js = nc.jetstream()  # type: ignore[attr-defined]
    info = await js.stream_info(stream)
    return [
        (await js.get_msg(stream, seq)).data or b""
        for seq in range(info.state.first_seq, info.state.last_seq + 1)
        if info.state.messages
    ]


async def test_hostile_names_never_add_a_header_and_the_bus_stays_coarse_and_forgetful(
    settings: Settings, clock: Clock, smtp_sink: SmtpSink, http: aiohttp.ClientSession
) -> None:
    shoppers = 2 * len(BREAKS)
    async with contextlib.AsyncExitStack() as stack:
        urls = await run_services(stack, settings, clock, "ingest", "advisory", "matcher", "mailer")
        ingest, advisory_url = urls["ingest"], urls["advisory"]
        catalog = [{"sku": "PB-1", "title": "Power bank", "categories": ["power_bank"]}]
        catalog_key = await channel_header(settings, "shop-catalog", catalog=True)
        web = await channel_header(settings, "web")
        await expect(await http.put(f"{ingest}/v1/catalog", json=catalog, headers=catalog_key), 200)
        placed_at = clock.now() - timedelta(days=1)
        batch = [_shopper(n, placed_at) for n in range(shoppers)]
        answer = await expect(await http.post(f"{ingest}/v1/orders", json=batch, headers=web), 202)
        assert answer["accepted"] == shoppers, answer
        agency = await new_agency(settings, "Consumer Safety Institute")
        advice = power_bank_advisory(clock.now() + timedelta(seconds=30))
        await expect(
            await http.post(f"{advisory_url}/v1/advisories", json=advice, headers=agency), 201
        )
        clock.advance(timedelta(seconds=31))
        mails = await smtp_sink.wait_for(shoppers, timeout=60)

        injected = [
            (mail["To"], key)
            for mail in mails
            for key in mail.keys()  # noqa: SIM118 (a message's keys are its header names)
            if key.lower() in INJECTED or key.lower() not in OURS
        ]
        record(
            "security: header injection by a name or a title",
            inputs=2 * shoppers,
            load=len(mails),
            leaks=len(injected),
            note=f"{len(BREAKS)} kinds of line break; every mail still delivered",
        )
        assert injected == []

        nc = await stack.enter_async_context(nats(settings.nats_url))
        orders = await _facts(nc, "ORDERS")
        decode = m.decoder(m.OrderEvent).decode
        placed = [o for raw in orders for o in _placed(decode(raw))]
        fine: list[m.Location | bytes] = [
            o.location
            for o in placed
            if o.location.postal_code is not None
            or any(v is not None and round(v, 2) != v for v in (o.location.lat, o.location.lon))
        ]
        fine += [raw for raw in orders if b"927-1214" in raw or b"391234" in raw]
        record(
            "security: exact location or postal code on the bus",
            inputs=shoppers,
            leaks=len(fine),
            note="coordinates to two decimals (about 1 km), no postal code",
        )
        assert len(placed) == shoppers and fine == []

        async def forgotten() -> bool:
            return not await _facts(nc, "CUSTOMERS")

        await eventually(forgotten)
        kept = await _facts(nc, "CUSTOMERS")
        record(
            "security: addresses kept on the bus",
            inputs=shoppers,
            leaks=len(kept),
            note="CUSTOMERS keeps a message until the mailer acknowledges it, a week at most",
        )
        assert kept == []


LEGACY = "Yy00Mg.KFEg8fTxXPutLdsC2_sI5NR3"  # the earlier code's two-part link for c-42


async def test_a_two_part_link_from_an_old_inbox_never_unsubscribes_a_new_address(
    settings: Settings, clock: Clock, smtp_sink: SmtpSink, http: aiohttp.ClientSession
) -> None:
    settings = msgspec.structs.replace(settings, secret_key="secret")
    tries = []
    async with (
        running(build_mailer, settings, clock, settings.mailer_port) as url,
        nats(settings.nats_url) as nc,
    ):
        await customers(nc, ("c-42", "hanako@example.jp", "ja-JP", "Asia/Tokyo"))
        conn = await asyncpg.connect(settings.database_url)
        try:

            async def held(address: str) -> bool:
                found = await conn.fetchval(
                    "SELECT email FROM mailer.contacts WHERE customer_id = 'c-42'"
                )
                return bool(found == address)

            await eventually(lambda: held("hanako@example.jp"))
            # As migration 004 found her: the address held since before two-part links ended.
            await conn.execute("UPDATE mailer.contacts SET email_since = NULL")
            moved = m.CustomerUpserted(customer_id="c-42", email="new@example.jp")
            await publish_contact(nc, moved)
            await eventually(lambda: held("new@example.jp"))
            for form in ({"List-Unsubscribe": "One-Click"}, {}):
                async with http.post(f"{url}/u/{LEGACY}", data=form) as reply:
                    tries.append(reply.status)
            clock.advance(timedelta(days=61))
            async with http.post(f"{url}/u/{LEGACY}", data={}) as reply:
                tries.append(reply.status)
            suppressed = await conn.fetchval("SELECT count(*) FROM mailer.suppressions")
        finally:
            await conn.close()
        await advisory(nc, "adv-1")
        await deliveries(nc, "adv-1", ["c-42"])
        [mail] = await smtp_sink.wait_for(1)
    record(
        "security: a two-part unsubscribe link from an old inbox",
        inputs=len(tries),
        leaks=suppressed,
        note="acts only on an address held since such links were retired, 60 days at most",
    )
    assert suppressed == 0 and tries == [200, 200, 200]
    assert mail["To"].addresses[0].addr_spec == "new@example.jp"
