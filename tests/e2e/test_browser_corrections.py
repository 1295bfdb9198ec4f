"""In a real browser: an agency corrects its published advisory through the portal's
amendment form; the buyer who received it gets the correction mail, and the advisory's page
shows the new version. All four services run in-process on real NATS, PostgreSQL and SMTP.
"""

from __future__ import annotations

import contextlib
from datetime import timedelta
from pathlib import Path

import aiohttp

from shared.clock import Clock
from shared.config import Settings
from tests.support.advisory import new_agency
from tests.support.browser import chromium, fits_phone, screenshot
from tests.support.fixtures import run_services
from tests.support.keys import channel_header
from tests.support.parts import part_text
from tests.support.shop import expect, order, power_bank_advisory
from tests.support.smtp import SmtpSink

FIXED = "Never charge it unattended, nor near anything that burns."


async def test_an_agency_corrects_its_published_advisory_in_a_browser(
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
        mine = await new_agency(settings, "製品安全研究所")
        catalog = [{"sku": "PB-1", "title": "Power bank", "categories": ["power_bank"]}]
        shop = await channel_header(settings, "shop-catalog", catalog=True)
        await expect(await http.put(f"{ingest}/v1/catalog", json=catalog, headers=shop), 200)
        bought = order("A-1", clock.now(), email="jane@example.com", locale="en-GB")
        web = await channel_header(settings, "web")
        await expect(await http.post(f"{ingest}/v1/orders", json=bought, headers=web), 202)
        advisory = power_bank_advisory(clock.now() + timedelta(hours=1))
        created = await expect(
            await http.post(f"{base}/v1/advisories", json=advisory, headers=mine), 201
        )
        clock.advance(timedelta(hours=1, seconds=1))
        [first] = await smtp_sink.wait_for(1)
        assert first["Subject"] == advisory["title"]["en"]

        context = await browser.new_context(viewport={"width": 1280, "height": 900}, locale="en")
        page = await context.new_page()
        await page.goto(f"{base}/portal")
        await page.get_by_label("Agency key").fill(mine["Authorization"].split()[1])
        await page.get_by_role("button", name="Sign in").click()
        await page.goto(f"{base}/portal/advisories/{created['id']}")
        await page.get_by_role("link", name="Amend this advisory").click()
        assert "a correction" in await page.locator("#amend-effect").inner_text()
        assert await page.locator("#body_fr").input_value() == advisory["body"]["fr"]
        await page.locator("#body_en").fill(FIXED)
        await screenshot(page, tmp_path, "portal-amend")
        await page.get_by_role("button", name="Publish the correction").click()

        assert await page.locator("h1").inner_text() == advisory["title"]["en"]
        facts = await page.locator("dl.facts").inner_text()
        assert "Version\n2" in facts or "Version\t2" in facts, facts
        assert "last corrected" in await page.locator("[data-amend]").locator("..").inner_text()
        [_, correction] = await smtp_sink.wait_for(2)
        assert correction["Subject"] == "Correction: " + advisory["title"]["en"]
        assert FIXED in part_text(correction, "plain")

        phone = await browser.new_context(
            viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True
        )
        small = await phone.new_page()
        await small.goto(f"{base}/portal")
        await small.get_by_label("Agency key").fill(mine["Authorization"].split()[1])
        await small.get_by_role("button", name="Sign in").click()
        await small.goto(f"{base}/portal/advisories/{created['id']}/amend")
        assert await fits_phone(small)
        await context.close()
        await phone.close()
