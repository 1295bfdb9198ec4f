"""Matcher and mailer together, in-process: what the customer finds in the mailbox."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta

import aiohttp
import asyncpg
import msgspec

from shared import bus
from shared import messages as m
from shared.bus import Subjects
from shared.clock import Clock
from shared.config import Settings
from shared.mail.render import message_id
from tests.service.test_matcher_kit import JP_17, TOKYO, placed, published, shop, small
from tests.support.fixtures import run_services
from tests.support.keys import channel_header
from tests.support.mailer import customers, wait_states
from tests.support.parts import part_text
from tests.support.shop import expect, order
from tests.support.smtp import SmtpSink

DAY = timedelta(days=1)


async def test_each_disaster_declared_for_a_playbook_mails_its_buyers_again(
    settings: Settings, clock: Clock, smtp_sink: SmtpSink
) -> None:
    settings = small(settings)
    now = clock.now()
    gen = ["portable_generator"]
    rule = m.Disaster(categories=gen, hazards=["earthquake"])
    noto = m.DisasterDeclared(
        event_id="eq-1",
        hazard="earthquake",
        title="Noto",
        occurred_at=now,
        areas=[m.Regions(codes=["JP-17"])],
        countries=["JP"],
        advisory_ids=["adv-gen"],
    )
    async with contextlib.AsyncExitStack() as stack:
        await run_services(stack, settings, clock, "matcher", "mailer")
        s = await stack.enter_async_context(shop(settings))
        await customers(
            s.nc,
            ("c-wajima", "hanako@example.jp", "ja-JP", "Asia/Tokyo"),
            ("c-tokyo", "taro@example.jp", "ja-JP", "Asia/Tokyo"),
        )
        await s.send(published("adv-gen", rule, now))
        await s.send(placed("c-wajima", now - 30 * DAY, gen, where=JP_17))
        await s.send(placed("c-tokyo", now - 30 * DAY, gen, where=TOKYO))
        await s.idle(clock)

        await s.send(noto)
        [first] = await smtp_sink.wait_for(1)
        assert first["To"].addresses[0].addr_spec == "hanako@example.jp"
        assert first["Message-ID"] == message_id("adv-gen", "c-wajima", "anshin.example", "eq-1")

        # The aftershock a week later is a new disaster: the playbook reaches her again.
        clock.advance(7 * DAY)
        aftershock = msgspec.structs.replace(noto, event_id="eq-2", occurred_at=clock.now())
        await s.send(aftershock)
        await smtp_sink.wait_for(2)
        second = smtp_sink.messages[1]
        assert second["To"].addresses[0].addr_spec == "hanako@example.jp"
        assert second["Message-ID"] == message_id("adv-gen", "c-wajima", "anshin.example", "eq-2")

        # The same declaration again, and every delivery batch replayed past the broker's
        # duplicate window: nothing more reaches her.
        await s.send(aftershock)
        await s.idle(clock)
        for n, batch in enumerate(await s.batches()):
            await bus.publish(s.nc, Subjects.DELIVERIES_REQUESTED, batch, f"replay:{n}")
        await wait_states(settings.database_url, {"sent": 2})
        await asyncio.sleep(1.5)
        assert len(smtp_sink.messages) == 2
        assert [b.event_id for b in await s.batches()][:2] == ["eq-1", "eq-2"]


async def test_a_recall_reaches_buyers_of_a_product_in_no_safety_category(
    settings: Settings, clock: Clock, smtp_sink: SmtpSink, http: aiohttp.ClientSession
) -> None:
    settings = small(settings)
    now = clock.now()
    mug = order("A-1", now - 400 * DAY, customer="c-sku", email="hanako@example.jp")
    mug["lines"] = [{"sku": "MUG-1", "title": "Ceramic mug", "quantity": 1}]
    bank = order("A-2", now - 3 * DAY, customer="c-pb", email="taro@example.jp")
    travel = order("A-3", now, customer="c-gtin", email="jiro@example.jp", locale="en-US")
    travel["lines"] = [
        {"sku": "TM-7", "gtin": "4901234567894", "title": "Travel mug", "quantity": 1},
        {"sku": "TEE", "title": "T-shirt", "quantity": 1},
    ]
    recall = m.Recall(skus=["MUG-1"], gtins=["4901234567894"])
    short = m.ShortTerm(categories=["power_bank"])
    async with contextlib.AsyncExitStack() as stack:
        urls = await run_services(stack, settings, clock, "ingest", "matcher", "mailer")
        s = await stack.enter_async_context(shop(settings))
        web = await channel_header(settings)
        for one in (mug, bank):
            await expect(await http.post(f"{urls['ingest']}/v1/orders", json=one, headers=web), 202)
        await s.idle(clock)
        # Published after the purchases: the recall finds the mug by its SKU, the power-bank
        # advice only the power bank.
        await s.send(published("adv-recall", recall, now))
        await s.send(published("adv-pb", short, now))
        await smtp_sink.wait_for(2)
        # Bought after the recall: found at purchase time, by its GTIN.
        await expect(await http.post(f"{urls['ingest']}/v1/orders", json=travel, headers=web), 202)
        await smtp_sink.wait_for(3)
        await s.idle(clock)
        await wait_states(settings.database_url, {"sent": 3})
        await asyncio.sleep(1.0)
    conn = await asyncpg.connect(settings.database_url)
    try:
        how = await conn.fetch(
            "SELECT l->>'sku' sku, l->>'categorized_by' categorized_by"
            " FROM ingest.orders, json_array_elements(lines) l"
            " ORDER BY order_id, (l->>'line_no')::int"
        )
    finally:
        await conn.close()
    assert [tuple(r) for r in how] == [
        ("MUG-1", "none"),
        ("PB-1", "rule"),
        ("TM-7", "none"),
        ("TEE", "none"),
    ]
    got = sorted(
        (str(mail["To"].addresses[0].addr_spec), str(mail["X-Anshin-Advisory"]))
        for mail in smtp_sink.messages
    )
    assert got == [
        ("hanako@example.jp", "adv-recall"),
        ("jiro@example.jp", "adv-recall"),
        ("taro@example.jp", "adv-pb"),
    ]
    texts = {
        str(mail["To"].addresses[0].addr_spec): part_text(mail, "plain")
        for mail in smtp_sink.messages
    }
    assert "Ceramic mug" in texts["hanako@example.jp"] and "A-1" in texts["hanako@example.jp"]
    assert "Travel mug" in texts["jiro@example.jp"] and "T-shirt" not in texts["jiro@example.jp"]
