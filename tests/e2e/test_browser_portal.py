"""In a real browser: an agency signs in, submits an advisory through the form, previews the
mail, sees the audience estimate and, after publication, the reach; on a desktop and a phone.

All four services run in-process on real NATS, PostgreSQL and SMTP servers.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta
from pathlib import Path

import aiohttp

from shared.clock import Clock
from shared.config import Settings
from tests.support.advisory import new_agency, operator
from tests.support.browser import (
    chromium,
    fits_phone,
    matcher_knows_buyers,
    reload_until,
    screenshot,
)
from tests.support.fixtures import run_services
from tests.support.keys import channel_header
from tests.support.shop import expect, order
from tests.support.smtp import SmtpSink


async def test_an_agency_submits_previews_and_follows_its_advisory_in_a_browser(
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
        key = (await new_agency(settings, "製品安全研究所"))["Authorization"].split()[1]
        catalog = [{"sku": "PB-1", "title": "Power bank", "categories": ["power_bank"]}]
        await expect(
            await http.put(f"{ingest}/v1/catalog", json=catalog, headers=operator(settings)), 200
        )
        bought = order("A-1001", clock.now() - timedelta(days=2))
        web = await channel_header(settings)
        await expect(await http.post(f"{ingest}/v1/orders", json=bought, headers=web), 202)
        await matcher_knows_buyers(settings, "power_bank", 1)

        context = await browser.new_context(viewport={"width": 1280, "height": 900}, locale="en")
        page = await context.new_page()
        await page.goto(f"{base}/portal")
        await page.get_by_label("Agency key").fill(key)
        await page.get_by_role("button", name="Sign in").click()
        assert await page.locator("h1").inner_text() == "Advisories of 製品安全研究所"
        cookies = await context.cookies()
        assert [(c["httpOnly"], c["sameSite"]) for c in cookies] == [(True, "Strict")]

        await page.get_by_role("link", name="Submit a new advisory").click()
        embargo = clock.now() + timedelta(hours=1)
        await page.get_by_label("Kind").select_option("short_term")
        await page.get_by_label("Product categories").fill("power_bank")
        await page.locator("#title_en").fill("Using your power bank safely")
        await page.locator("#body_en").fill("Never charge it **unattended**, nor under a pillow.")
        await page.locator("#title_ja").fill("モバイルバッテリーの安全な使い方")
        await page.locator("#body_ja").fill("充電中は目を離さないでください。")
        await page.locator("#embargo_until").fill("2020-01-01T00:00:00")
        await page.get_by_role("button", name="Submit under embargo").click()
        # A past embargo is refused, named next to its field, and the typed words stay.
        assert "must not be in the past" in await page.locator("#embargo_until-error").inner_text()
        assert await page.locator("#title_ja").input_value() == "モバイルバッテリーの安全な使い方"
        await screenshot(page, tmp_path, "portal-form-error")
        await page.locator("#embargo_until").fill(embargo.strftime("%Y-%m-%dT%H:%M:%S"))
        await page.get_by_role("button", name="Submit under embargo").click()

        assert await page.locator("h1").inner_text() == "Using your power bank safely"
        assert await page.locator("#state").inner_text() == "embargoed"
        assert await page.locator("#audience-count").inner_text() == "1"
        countdown = page.locator("time.countdown")
        first = await countdown.inner_text()
        assert first.startswith("00:59:") or first == "01:00:00"
        await page.wait_for_function(
            "t => document.querySelector('time.countdown').textContent !== t", arg=first
        )
        await page.get_by_role("link", name="ja", exact=True).click()
        assert (
            await page.locator("#preview-subject").inner_text()
            == "モバイルバッテリーの安全な使い方"
        )
        mail = page.frame_locator("iframe.mail")
        assert "製品安全研究所" in await mail.locator("body").inner_text()
        await screenshot(page, tmp_path, "portal-embargoed")

        clock.advance(timedelta(hours=1, seconds=1))
        [sent] = await smtp_sink.wait_for(1)
        assert sent["Subject"] == "モバイルバッテリーの安全な使い方"
        sent_cell = page.locator('td[data-series="sent"]')

        async def reach_shown() -> bool:
            return await sent_cell.count() == 1 and await sent_cell.inner_text() == "1"

        await reload_until(page, reach_shown)
        assert await page.locator("#state").inner_text() == "published"
        assert await page.locator("svg.chart rect").count() >= 1
        await screenshot(page, tmp_path, "portal-published")

        phone = await browser.new_context(
            viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True
        )
        small = await phone.new_page()
        await small.goto(f"{base}/portal")
        await small.get_by_label("Agency key").fill(key)
        await small.get_by_role("button", name="Sign in").click()
        await small.get_by_role("link", name="Using your power bank safely").click()
        assert await fits_phone(small)
        await screenshot(small, tmp_path, "portal-phone")
        await asyncio.gather(context.close(), phone.close())
