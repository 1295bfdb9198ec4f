"""In a real browser: an operator reads the console (advisories by state with a live
countdown, a disaster on its map with the audience reached, an advisory's reach chart,
consumer lag) and replays a dead letter once.

All four services run in-process on real NATS, PostgreSQL and SMTP servers.
"""

from __future__ import annotations

import contextlib
from datetime import timedelta
from pathlib import Path

import aiohttp
import nats
from playwright.async_api import HttpCredentials

from shared.clock import Clock
from shared.config import Settings
from tests.support.advisory import disaster_playbook, eventually, new_agency, operator
from tests.support.browser import (
    chromium,
    fits_phone,
    matcher_knows_buyers,
    reload_until,
    screenshot,
)
from tests.support.fixtures import run_services
from tests.support.keys import channel_header
from tests.support.shop import expect, order, power_bank_advisory
from tests.support.smtp import SmtpSink

NOTO = {
    "id": "us6000m0xl",
    "hazard": "earthquake",
    "title": "M7.5 Noto Peninsula, Japan",
    "area": {"type": "circle", "lat": 37.4874, "lon": 137.271, "radius_km": 170},
    "countries": ["JP"],
}


async def test_an_operator_follows_a_disaster_and_replays_a_dead_letter_in_a_browser(
    settings: Settings,
    clock: Clock,
    smtp_sink: SmtpSink,
    http: aiohttp.ClientSession,
    tmp_path: Path,
) -> None:
    async with contextlib.AsyncExitStack() as stack:
        browser = await stack.enter_async_context(chromium())
        urls = await run_services(stack, settings, clock, "ingest", "advisory", "matcher", "mailer")
        ingest, base = urls["ingest"], urls["advisory"]
        agency = await new_agency(settings, "Fire and Disaster Management Agency")
        catalog = [{"sku": "GEN-1", "title": "Generator", "categories": ["portable_generator"]}]
        await expect(
            await http.put(f"{ingest}/v1/catalog", json=catalog, headers=operator(settings)), 200
        )
        bought = order("A-2001", clock.now() - timedelta(days=20), sku="GEN-1")
        web = await channel_header(settings)
        await expect(await http.post(f"{ingest}/v1/orders", json=bought, headers=web), 202)
        playbook = disaster_playbook(clock.now() + timedelta(seconds=30))
        created = await expect(
            await http.post(f"{base}/v1/advisories", json=playbook, headers=agency), 201
        )
        later = power_bank_advisory(clock.now() + timedelta(hours=2))
        await expect(await http.post(f"{base}/v1/advisories", json=later, headers=agency), 201)
        clock.advance(timedelta(seconds=31))

        async def published() -> bool:
            reply = await http.get(f"{base}/v1/advisories/{created['id']}", headers=agency)
            return bool((await reply.json())["state"] == "published")

        await eventually(published)
        await matcher_knows_buyers(settings, "portable_generator", 1)
        quake = NOTO | {"time": clock.now().isoformat()}
        declared = await expect(
            await http.post(f"{base}/v1/events", json=quake, headers=operator(settings)), 201
        )
        [mail] = await smtp_sink.wait_for(1)
        assert mail["Subject"] == playbook["title"]["ja"]

        credentials: HttpCredentials = {"username": "operator", "password": settings.operator_key}
        context = await browser.new_context(
            viewport={"width": 1280, "height": 900}, http_credentials=credentials
        )
        page = await context.new_page()
        await page.goto(f"{base}/console")
        assert await page.locator("h1").inner_text() == "Console"
        embargoed = page.locator("#state-embargoed + .scroll")
        assert "Using your power bank safely" in await embargoed.inner_text()
        countdown = embargoed.locator("time.countdown")
        first = await countdown.inner_text()
        assert first.startswith("01:59:")
        await page.wait_for_function(
            "t => document.querySelector('time.countdown').textContent !== t", arg=first
        )
        published_rows = await page.locator("#state-published + .scroll").inner_text()
        assert "Generators: beware of CO" in published_rows
        consumers = await page.locator("#consumers ~ .scroll").first.inner_text()
        assert "matcher-orders" in consumers and "mailer-deliveries" in consumers
        await screenshot(page, tmp_path, "console-overview")

        await page.get_by_role("link", name="M7.5 Noto Peninsula, Japan").click()
        reached = page.locator("[data-reached]")

        async def reach_shown() -> bool:
            return await reached.inner_text() == "1"

        await reload_until(page, reach_shown)
        assert "sent of 1 matched" in await page.locator("dl.facts").inner_text()
        assert await page.locator("svg.map path.area").count() == 1
        box = await page.locator("svg.map").bounding_box()
        assert box is not None and box["width"] > 300
        assert declared["id"] in await page.locator("dl.facts").inner_text()
        await screenshot(page, tmp_path, "console-disaster")

        await page.get_by_role("link", name="Generators: beware of CO").click()
        assert await page.locator('td[data-series="sent"]').inner_text() == "1"
        bars = page.locator("svg.chart rect > title")
        assert await bars.count() == 1 and (await bars.text_content() or "").endswith(": 1 sent")
        assert "Fire and Disaster Management Agency" in await page.locator("dl.facts").inner_text()
        # The funnel under the reach: each step with its count and what it counts.
        funnel = page.locator("table.funnel")
        await funnel.scroll_into_view_if_needed()
        assert await funnel.is_visible()
        for step, n in (("bought", "1"), ("contactable", "1"), ("delivered", "1"), ("read", "0")):
            row = funnel.locator(f'tr[data-step="{step}"]')
            assert await row.locator("[data-customers]").inner_text() == n
        assert "e-mail address" in await funnel.locator('tr[data-step="contactable"]').inner_text()
        verdict = page.locator("#funnel-says")
        assert await verdict.get_attribute("data-mark") == "met"
        assert (await verdict.inner_text()).startswith("100.0 % of the buyers can be contacted")
        await screenshot(page, tmp_path, "console-advisory")

        # A message nobody can read: the matcher dead-letters it; the console replays it once.
        nc = await nats.connect(settings.nats_url)
        stack.push_async_callback(nc.close)
        await nc.jetstream().publish(
            "orders.placed", b"{not json", headers={"Nats-Msg-Id": "order:web:BAD:placed"}
        )
        await page.goto(f"{base}/console#dead-letters")
        heading = page.locator("#dead-letters")

        async def dead(n: int) -> bool:
            return await heading.inner_text() == f"Dead letters ({n})"

        await reload_until(page, lambda: dead(1))
        row = page.locator("#dead-letters ~ .scroll tbody tr").first
        assert "undecodable" in await row.inner_text()
        await row.get_by_role("button", name="Replay").click()
        assert "Replayed as replay:" in await page.locator("[role=status]").inner_text()
        # The replay reached the consumer again, which dead-lettered it again: a new row.
        await reload_until(page, lambda: dead(2))
        rows = page.locator("#dead-letters ~ .scroll tbody tr")
        assert await rows.nth(1).get_by_role("button").count() == 0
        assert "replayed" in await rows.nth(1).inner_text()
        assert await rows.nth(0).get_by_role("button", name="Replay").count() == 1
        await screenshot(page, tmp_path, "console-dead-letters")

        phone = await browser.new_context(
            viewport={"width": 360, "height": 740}, is_mobile=True, http_credentials=credentials
        )
        small = await phone.new_page()
        await small.goto(f"{base}/console/disasters/{declared['id']}")
        assert await fits_phone(small)
        await screenshot(small, tmp_path, "console-disaster-phone")
        await context.close()
        await phone.close()
