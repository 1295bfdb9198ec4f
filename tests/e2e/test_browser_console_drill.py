"""In a real browser: an operator sees where a disaster struck (its municipalities with their
customers, on the map), then rehearses a historical JMA report with a dry run, uploaded and
pasted, and nothing is sent.

Advisory and matcher run in-process on real NATS and PostgreSQL; orders reach the matcher on
the bus as ingest publishes them.
"""

from __future__ import annotations

import contextlib
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
from playwright.async_api import HttpCredentials

from shared import messages as m
from shared.clock import Clock
from shared.config import Settings
from tests.service.test_matcher_kit import placed, shop, small
from tests.support.advisory import disaster_playbook, eventually, new_agency, operator
from tests.support.browser import chromium, fits_phone, screenshot
from tests.support.fixtures import run_services

GEN = ["portable_generator"]
IWATE = Path(__file__).parents[1] / "fixtures" / "jma" / "32-35_06_05_240613_VXSE53.xml"


async def test_an_operator_sees_where_and_dry_runs_a_jma_report_in_a_browser(
    settings: Settings, clock: Clock, http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    settings = small(settings)
    now = clock.now()
    iwate = datetime(2008, 6, 13, 23, 43, tzinfo=UTC)
    async with contextlib.AsyncExitStack() as stack:
        browser = await stack.enter_async_context(chromium())
        urls = await run_services(stack, settings, clock, "advisory", "matcher")
        base = urls["advisory"]
        s = await stack.enter_async_context(shop(settings))
        for customer, code, lat, lon, at in (
            ("c-wajima", "17204", 37.39, 136.9, now - timedelta(days=5)),
            ("c-oshu", "03215", 39.14, 141.14, iwate - timedelta(days=20)),
        ):
            where = m.Location(country="JP", area_code=code, lat=lat, lon=lon)
            await s.send(placed(customer, at, GEN, where=where))
        agency = await new_agency(settings, "FDMA")
        body = disaster_playbook(now + timedelta(minutes=1))
        playbook = (
            await (await http.post(f"{base}/v1/advisories", json=body, headers=agency)).json()
        )["id"]
        clock.advance(timedelta(minutes=2))

        async def published() -> bool:
            reply = await http.get(f"{base}/v1/advisories/{playbook}", headers=agency)
            return bool((await reply.json())["state"] == "published")

        await eventually(published)
        await s.idle(clock)
        quake = {
            "id": "noto-browser", "hazard": "earthquake", "title": "Noto, by municipality",
            "time": clock.now().isoformat(),
            "places": [{"type": "codes", "scheme": "jis", "levels": {"17204": "7", "17205": "6+"}}],
        }  # fmt: skip
        reply = await http.post(f"{base}/v1/events", json=quake, headers=operator(settings))
        assert reply.status == 201, await reply.text()
        disaster_id = (await reply.json())["id"]

        credentials: HttpCredentials = {"username": "operator", "password": settings.operator_key}
        context = await browser.new_context(
            viewport={"width": 1280, "height": 900}, http_credentials=credentials
        )
        page = await context.new_page()
        await page.goto(f"{base}/console/disasters/{disaster_id}")
        wajima = page.locator('table[data-places="jis"] tr[data-place="17204"]')
        assert await wajima.inner_text() == "17204\t石川県輪島市\t7\t1"
        # Each place on the map: 輪島市 at its customer, 珠洲市 (nobody) at Ishikawa's centre.
        assert await page.locator("svg.map circle.place").count() == 2
        assert await page.locator('svg.map circle.place[fill="none"]').count() == 1
        await screenshot(page, tmp_path, "console-disaster-places")

        await page.get_by_role("link", name="a dry run").click()
        assert await page.locator("h1").inner_text() == "Dry run of a disaster"
        await page.locator("#file").set_input_files(str(IWATE))
        await page.get_by_role("button", name="Dry run").click()
        outcome = page.locator("[data-drill-outcome]")
        assert await outcome.get_attribute("data-drill-outcome") == "drill"
        assert "nothing was declared, stored or sent" in await outcome.inner_text()
        row = page.locator(f'tr[data-playbook="{playbook}"]')
        assert await row.locator("td").nth(1).inner_text() == "1"
        assert "岩手県奥州市 (03215, 6+): 1" in await row.locator("td").nth(2).inner_text()
        oshu = page.locator('table[data-places="jis"] tr[data-place="03215"]')
        assert await oshu.inner_text() == "03215\t岩手県奥州市\t6+\t1"
        # 奥州市 at its customer; the other municipalities, one ring per prefecture.
        cities = re.findall(r"<City><Name>[^<]*</Name><Code>(\d{2})", IWATE.read_text("utf-8"))
        assert await page.locator('svg.map circle.place:not([fill="none"])').count() == 1
        assert await page.locator('svg.map circle.place[fill="none"]').count() == len(set(cities))
        await screenshot(page, tmp_path, "console-drill")

        # Pasted, broken: the problem named, the text given back to mend.
        await page.locator("#document").fill('{"hazard": "earthquake"}')
        await page.get_by_role("button", name="Dry run").click()
        assert "invalid event" in await page.locator("[data-drill-error]").inner_text()
        assert await page.locator("#document").input_value() == '{"hazard": "earthquake"}'
        # Every console page's menu leads to it.
        await page.goto(f"{base}/console")
        await page.get_by_role("navigation").get_by_role("link", name="Dry run").click()
        assert await page.locator("h1").inner_text() == "Dry run of a disaster"

        phone = await browser.new_context(
            viewport={"width": 360, "height": 740}, is_mobile=True, http_credentials=credentials
        )
        small_page = await phone.new_page()
        await small_page.goto(f"{base}/console/disasters/{disaster_id}")
        assert await fits_phone(small_page)
        await small_page.goto(f"{base}/console/drill")
        assert await fits_phone(small_page)
        await context.close()
        await phone.close()
        # Mail was asked for the declared disaster alone: the dry run asked for none.
        assert {batch.event_id for batch in await s.batches()} == {disaster_id}
