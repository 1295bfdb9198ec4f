"""Corrections after publication through all four services, against real NATS, PostgreSQL and
SMTP: an agency amends a published advisory; each customer who received it gets one
correction mail in their language (a redelivered event mails no one again), a widened rule
reaches the newly inside with the normal mail, and the public pages show the corrected text
with its date; a correction under a new embargo waits for it."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from email.message import EmailMessage
from typing import Any

import aiohttp
import asyncpg
import msgspec

from shared import bus
from shared.bus import Subjects
from shared.clock import Clock
from shared.config import Settings
from tests.service.test_console import basic
from tests.service.test_console import page as console_page
from tests.support.advisory import new_agency, stream_messages
from tests.support.fixtures import run_services
from tests.support.keys import channel_header
from tests.support.mailer import eventually, nats
from tests.support.parts import part_text
from tests.support.shop import expect, order, power_bank_advisory
from tests.support.smtp import SmtpSink

BUYERS = [
    ("c-1", "hanako@example.jp", "ja-JP"),
    ("c-2", "jane@example.com", "en-GB"),
    ("c-3", "pierre@example.fr", "fr-FR"),
]
STATION = ("c-4", "ken@example.jp", "ja-JP")  # bought a power station: inside once widened
CATALOG = [
    {"sku": "PB-1", "title": "Power bank", "categories": ["power_bank"]},
    {"sku": "PS-1", "title": "Power station", "categories": ["portable_power_station"]},
]
NEW_BODY = {
    "ja": "充電中は目を離さず、燃えやすい物の近くで充電しないでください。",
    "en": "Never charge it unattended, nor near anything that burns.",
    "fr": "Ne la chargez jamais sans surveillance, ni près de matières inflammables.",
}
MARK = {"ja": "【訂正】", "en": "Correction: ", "fr": "Rectificatif : "}


def to(mail: EmailMessage) -> str:
    """The one address a mail went to."""
    return str(mail["To"].addresses[0].addr_spec)


async def ledger(settings: Settings, advisory_id: str) -> dict[tuple[str, str], int]:
    """The mailer's rows of an advisory: (notice, state) → how many."""
    conn = await asyncpg.connect(settings.database_url)
    try:
        rows = await conn.fetch(
            "SELECT notice, state, count(*) AS n FROM mailer.deliveries WHERE advisory_id = $1"
            " GROUP BY 1, 2",
            advisory_id,
        )
    finally:
        await conn.close()
    return {(r["notice"], r["state"]): r["n"] for r in rows}


@contextlib.asynccontextmanager
async def shop_with_buyers(
    settings: Settings, clock: Clock, http: aiohttp.ClientSession, *more: tuple[str, str, str]
) -> AsyncIterator[tuple[dict[str, str], dict[str, str]]]:
    """The four services, a catalog, an agency and the buyers' orders (power banks; the
    `more` buy a power station); yields the services' URLs and the agency's header."""
    async with contextlib.AsyncExitStack() as stack:
        urls = await run_services(stack, settings, clock, "ingest", "advisory", "matcher", "mailer")
        mine = await new_agency(settings, "製品安全研究所")
        catalog = await channel_header(settings, "shop-catalog", catalog=True)
        web = await channel_header(settings, "web")
        put = await http.put(f"{urls['ingest']}/v1/catalog", json=CATALOG, headers=catalog)
        await expect(put, 200)
        people = [(*b, "PB-1") for b in BUYERS] + [(*b, "PS-1") for b in more]
        for i, (customer, email, locale, sku) in enumerate(people):
            bought = order(f"A-{i}", clock.now(), customer=customer, locale=locale, email=email)
            if sku == "PS-1":  # its title names no power bank either
                bought["lines"][0] |= {"sku": sku, "title": "ポータブル電源 1000Wh"}
            await expect(
                await http.post(f"{urls['ingest']}/v1/orders", json=bought, headers=web), 202
            )
        yield urls, mine


async def published(
    http: aiohttp.ClientSession, urls: dict[str, str], mine: dict[str, str], clock: Clock,
    sink: SmtpSink,
) -> str:  # fmt: skip
    """A power-bank advisory, published an hour on and mailed to the three buyers; its id."""
    advisory = power_bank_advisory(clock.now() + timedelta(hours=1))
    post = await http.post(f"{urls['advisory']}/v1/advisories", json=advisory, headers=mine)
    created: dict[str, Any] = await expect(post, 201)
    before = len(sink.messages)
    clock.advance(timedelta(hours=1, seconds=1))
    mails = (await sink.wait_for(before + len(BUYERS)))[before:]
    assert sorted(to(m) for m in mails) == sorted(b[1] for b in BUYERS)
    return str(created["id"])


async def redeliver(settings: Settings, subject: str) -> None:
    """Publish again, as a redelivery would hand it over, the last event of `subject`."""
    messages = await stream_messages(settings.nats_url, "ADVISORIES")
    last = [event for s, event in messages if s == subject][-1]
    async with nats(settings.nats_url) as nc:
        # Another Nats-Msg-Id: the broker's duplicate window must not be what stops it.
        await bus.publish_many(nc, [(subject, msgspec.json.encode(last), "test:redelivered")])


async def test_a_correction_reaches_each_earlier_recipient_once_and_a_widened_rule_newcomers(
    settings: Settings, clock: Clock, smtp_sink: SmtpSink, http: aiohttp.ClientSession
) -> None:
    mailer = f"http://127.0.0.1:{settings.mailer_port}"
    settings = msgspec.structs.replace(settings, mailer_public_url=mailer)
    async with shop_with_buyers(settings, clock, http, STATION) as (urls, mine):
        advisory_id = await published(http, urls, mine, clock, smtp_sink)
        url = f"{urls['advisory']}/v1/advisories/{advisory_id}"
        patch = {"body": NEW_BODY, "categories": ["power_bank", "portable_power_station"]}
        amended = await expect(await http.patch(url, json=patch, headers=mine), 200)
        assert amended == {"id": advisory_id, "state": "published", "version": 2}
        # The same again (a form sent twice) changes nothing and mails no one.
        again = await expect(await http.patch(url, json=patch, headers=mine), 400)
        assert again["details"][0]["field"] == "$"

        # Three corrections, one to each earlier recipient, and the normal mail to Ken.
        mails = (await smtp_sink.wait_for(len(BUYERS) + 4))[len(BUYERS) :]
        by_address = {to(m): m for m in mails}
        assert len(by_address) == 4, [to(m) for m in mails]
        for _, email, locale in BUYERS:
            lang = locale[:2]
            mail = by_address[email]
            assert mail["Subject"].startswith(MARK[lang]), mail["Subject"]
            assert mail["Content-Language"] == lang
            text = part_text(mail, "plain")
            assert NEW_BODY[lang] in text
            assert f"{mailer}/r/" in text  # the signed link to the safety page
        normal = by_address[STATION[1]]
        assert normal["Subject"] == power_bank_advisory(clock.now())["title"]["ja"]
        assert NEW_BODY["ja"] in part_text(normal, "plain")
        # Hanako's correction leads to the safety page.
        (read,) = [w for w in part_text(by_address[BUYERS[0][1]], "plain").split() if "/r/" in w]
        seen = await http.get(read, allow_redirects=False)
        assert seen.headers["Location"].startswith(f"{settings.public_url}/safety/{advisory_id}")

        # The event again, as a redelivery brings it: nobody is mailed twice.
        await redeliver(settings, Subjects.ADVISORIES_PUBLISHED)
        await asyncio.sleep(3)
        assert len(smtp_sink.messages) == len(BUYERS) + 4
        rows = await ledger(settings, advisory_id)
        assert rows == {("", "sent"): 4, ("correction", "sent"): 3}
        conn = await asyncpg.connect(settings.database_url)
        try:
            carried = await conn.fetch(
                "SELECT customer_id, notice, version FROM mailer.deliveries"
                " WHERE advisory_id = $1 ORDER BY 1, 2",
                advisory_id,
            )
        finally:
            await conn.close()
        # Each mail records the version it carried: Ken's advice, and every correction, the new.
        assert [(r["customer_id"], r["notice"], r["version"]) for r in carried] == [
            ("c-1", "", 1), ("c-1", "correction", 2), ("c-2", "", 1), ("c-2", "correction", 2),
            ("c-3", "", 1), ("c-3", "correction", 2), ("c-4", "", 2),
        ]  # fmt: skip
        # The evidence names each correction as one, sent, and answering no disaster.
        export = await http.get(f"{url}/evidence", headers=mine)
        assert export.status == 200
        lines = [json.loads(line) for line in (await export.text()).splitlines()][:-1]
        corrections = [e for e in lines if e["event"] == "correction"]
        assert len(corrections) == 3 and {e["detail"] for e in corrections} == {"correction:v2"}
        assert all(e.get("disaster", "") == "" for e in lines)
        assert sum(e["event"] == "sent" for e in lines) == 7

        # The product page and /safety show the corrected advice and the correction's date.
        notices = await expect(
            await http.get(f"{urls['advisory']}/v1/products/PB-1/notices?lang=en"), 200
        )
        (notice,) = notices["notices"]
        assert notice["version"] == 2 and notice["corrected_at"] is not None
        assert notice["summary"] == NEW_BODY["en"]
        for page in (f"/safety/{advisory_id}?lang=en", "/safety?lang=en"):
            html = await (await http.get(urls["advisory"] + page)).text()
            assert "Corrected on " in html and 'class="corrected"' in html, page
        one = await (await http.get(f"{urls['advisory']}/safety/{advisory_id}?lang=en")).text()
        assert NEW_BODY["en"] in one
        # The operators' console says it too.
        console = await console_page(
            http, f"{urls['advisory']}/console/advisories/{advisory_id}", basic(settings)
        )
        assert "(last corrected " in console


async def test_a_correction_under_a_new_embargo_waits_for_it(
    settings: Settings, clock: Clock, smtp_sink: SmtpSink, http: aiohttp.ClientSession
) -> None:
    async with shop_with_buyers(settings, clock, http) as (urls, mine):
        advisory_id = await published(http, urls, mine, clock, smtp_sink)
        url = f"{urls['advisory']}/v1/advisories/{advisory_id}"
        later = clock.now() + timedelta(hours=2)
        patch = {"body": NEW_BODY, "embargo_until": later.isoformat()}
        amended = await expect(await http.patch(url, json=patch, headers=mine), 200)
        assert amended["version"] == 2
        # Until then the public and the bus know only the first version.
        page = await (await http.get(f"{urls['advisory']}/safety/{advisory_id}?lang=en")).text()
        assert NEW_BODY["en"] not in page and "Corrected" not in page
        mine_now = await expect(await http.get(url, headers=mine), 200)
        assert mine_now["version"] == 1 and mine_now["pending_until"] is not None
        await asyncio.sleep(2)
        published_events = [
            e for s, e in await stream_messages(settings.nats_url, "ADVISORIES")
            if s == Subjects.ADVISORIES_PUBLISHED
        ]  # fmt: skip
        assert [e["version"] for e in published_events] == [1]
        assert len(smtp_sink.messages) == len(BUYERS)

        clock.advance(timedelta(hours=2, seconds=1))
        mails = (await smtp_sink.wait_for(2 * len(BUYERS)))[len(BUYERS) :]
        assert sorted(to(m) for m in mails) == sorted(b[1] for b in BUYERS)
        assert all(m["Subject"].startswith(tuple(MARK.values())) for m in mails)

        async def public() -> bool:
            reply = await http.get(f"{urls['advisory']}/safety/{advisory_id}?lang=en")
            return NEW_BODY["en"] in await reply.text()

        await eventually(public)


async def test_a_withdrawal_notifies_recipients_only_when_asked(
    settings: Settings, clock: Clock, smtp_sink: SmtpSink, http: aiohttp.ClientSession
) -> None:
    async with shop_with_buyers(settings, clock, http) as (urls, mine):
        told = await published(http, urls, mine, clock, smtp_sink)
        quiet = await published(http, urls, mine, clock, smtp_sink)
        base = f"{urls['advisory']}/v1/advisories"
        bad = await http.post(f"{base}/{told}/withdraw", json={"notify": True}, headers=mine)
        assert [d["field"] for d in (await expect(bad, 400))["details"]] == ["notify"]

        # Without notify_recipients: nothing is mailed.
        await expect(await http.post(f"{base}/{quiet}/withdraw", headers=mine), 200)
        withdraw = {"notify_recipients": True}
        await expect(await http.post(f"{base}/{told}/withdraw", json=withdraw, headers=mine), 200)
        mails = (await smtp_sink.wait_for(3 * len(BUYERS)))[2 * len(BUYERS) :]
        assert sorted(to(m) for m in mails) == sorted(b[1] for b in BUYERS)
        assert {m["X-Anshin-Advisory"] for m in mails} == {told}
        by_address = {to(m): m for m in mails}
        hanako = by_address[BUYERS[0][1]]
        assert hanako["Subject"].startswith("【取り下げ】")
        assert "取り下げました" in part_text(hanako, "plain")
        jane = part_text(by_address[BUYERS[1][1]], "plain")
        assert "has withdrawn its advice" in jane and "I have checked" not in jane

        # Again, as a redelivery brings it: no second notice.
        await redeliver(settings, Subjects.ADVISORIES_WITHDRAWN)
        await asyncio.sleep(3)
        assert len(smtp_sink.messages) == 3 * len(BUYERS)
        assert await ledger(settings, told) == {("", "sent"): 3, ("withdrawal", "sent"): 3}
        assert await ledger(settings, quiet) == {("", "sent"): 3}
