"""In a real browser, in Japanese and in English: a Tokyo fire department signs in to the portal,
the new-advisory form shows only the chosen kind's fields and the UTC of the JST embargo it
types, the advisory's page shows its times in JST beside UTC and the deadline's verdict; the
reader switches to English and stays there; without scripts the form still works whole; an
operator reads the console in Japanese.

The advisory service and the matcher run in-process on real NATS and PostgreSQL servers.
"""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from playwright.async_api import HttpCredentials, Page

from shared.clock import Clock
from shared.config import Settings
from tests.support.advisory import new_agency
from tests.support.browser import chromium, fits_phone, screenshot
from tests.support.fixtures import run_services

TOKYO = ZoneInfo("Asia/Tokyo")
HIDDEN_FOR_SHORT_TERM = ("after_years", "groups", "hazards", "countries", "skus", "gtins")


def _tokyo_10am(clock: Clock, days: int) -> datetime:
    day = clock.now().astimezone(TOKYO).date() + timedelta(days=days)
    return datetime(day.year, day.month, day.day, 10, 0, tzinfo=TOKYO)


async def _shown(page: Page, *ids: str) -> list[bool]:
    return [await page.locator(f"#{i}").is_visible() for i in ids]


async def test_a_tokyo_agency_uses_the_portal_in_japanese_and_jst_in_a_browser(
    settings: Settings, clock: Clock, tmp_path: Path
) -> None:
    async with contextlib.AsyncExitStack() as stack:
        browser = await stack.enter_async_context(chromium())
        urls = await run_services(stack, settings, clock, "advisory", "matcher")
        base = urls["advisory"]
        header = await new_agency(settings, "東京消防庁", "Asia/Tokyo")
        key = header["Authorization"].split()[1]

        context = await browser.new_context(viewport={"width": 1280, "height": 900}, locale="ja-JP")
        stack.push_async_callback(context.close)
        page = await context.new_page()
        await page.goto(f"{base}/portal")
        assert await page.locator("h1").inner_text() == "サインイン"
        assert await page.locator("html").get_attribute("lang") == "ja"
        await page.get_by_label("機関キー").fill(key)
        await page.get_by_role("button", name="サインイン").click()
        assert await page.locator("h1").inner_text() == "東京消防庁 の注意喚起"
        await page.get_by_role("link", name="新しい注意喚起を登録する").click()

        # Only the chosen kind's fields.
        kind = page.get_by_label("種類", exact=True)
        await kind.select_option("short_term")
        assert await _shown(page, "categories", "window_days") == [True, True]
        assert await _shown(page, *HIDDEN_FOR_SHORT_TERM) == [False] * 6
        await kind.select_option("recall")
        assert await _shown(page, "skus", "gtins", "categories", "window_days") == [
            True, True, False, False,
        ]  # fmt: skip
        await kind.select_option("disaster")
        assert await _shown(page, "hazards", "min_intensity", "skus") == [True, True, False]
        await kind.select_option("short_term")
        await page.get_by_label("製品カテゴリー").fill("power_bank")
        await page.locator("#title_en").fill("Using your power bank safely")
        await page.locator("#body_en").fill("Never charge it unattended.")
        await page.locator("#title_ja").fill("モバイルバッテリーの安全な使い方")
        await page.locator("#body_ja").fill("充電中は目を離さないでください。")

        # The JST embargo's UTC, said before the form is sent.
        embargo = _tokyo_10am(clock, 3)
        utc = embargo.astimezone(UTC)
        await page.get_by_label("解禁日時（Asia/Tokyo）").fill(f"{embargo:%Y-%m-%dT%H:%M}")
        preview = page.locator("#embargo_until-utc")
        assert await preview.inner_text() == f"協定世界時で {utc:%Y-%m-%d} 01:00 UTC"
        due = embargo + timedelta(hours=2)
        await page.locator("#deliver_by").fill(f"{due:%Y-%m-%dT%H:%M}")
        assert (await page.locator("#deliver_by-utc").inner_text()).endswith("03:00 UTC")
        await screenshot(page, tmp_path, "portal-form-ja")
        await page.get_by_role("button", name="解禁日時まで非公開で登録する").click()

        # The agency's own Japanese title, and the mail in Japanese first.
        assert await page.locator("h1").inner_text() == "モバイルバッテリーの安全な使い方"
        subject = page.locator("#preview-subject")
        assert await subject.inner_text() == "モバイルバッテリーの安全な使い方"
        assert await page.locator("#state").inner_text() == "解禁前"
        facts = await page.locator("dl.facts").inner_text()
        assert f"{embargo:%Y-%m-%d} 10:00 JST ({utc:%Y-%m-%d} 01:00 UTC)" in facts
        verdict = page.locator("#deadline")
        assert await verdict.get_attribute("data-met") == "met"
        assert "間に合います" in await verdict.inner_text()
        assert f"{due:%Y-%m-%d} 12:00 JST" in await verdict.inner_text()
        assert await page.locator("#audience").inner_text() == "対象者数の推定"
        await screenshot(page, tmp_path, "portal-advisory-ja")

        # The reader picks English; it stays English on the next page.
        await page.get_by_role("link", name="English").click()
        assert await page.locator("#state").inner_text() == "embargoed"
        assert await page.locator("h1").inner_text() == "Using your power bank safely"
        assert await subject.inner_text() == "Using your power bank safely"
        await page.get_by_role("link", name="ja", exact=True).click()  # every language's tab
        assert await subject.inner_text() == "モバイルバッテリーの安全な使い方"
        assert "will be met" in await verdict.inner_text()
        await page.get_by_role("link", name="New advisory").click()
        assert await page.locator("h1").inner_text() == "New advisory"
        await page.get_by_label("Kind", exact=True).select_option("long_term")
        assert await _shown(page, "after_years", "window_days") == [True, False]
        await page.get_by_label("Embargo until (Asia/Tokyo)").fill(f"{embargo:%Y-%m-%dT%H:%M}")
        assert await preview.inner_text() == f"that is {utc:%Y-%m-%d} 01:00 UTC"
        await screenshot(page, tmp_path, "portal-form-en")

        # New York's clocks skip an hour in March and pass one twice in November: said so.
        york = (await new_agency(settings, "FDNY", "America/New_York"))["Authorization"]
        east = await browser.new_context(locale="en-US")
        stack.push_async_callback(east.close)
        ny = await east.new_page()
        await ny.goto(f"{base}/portal")
        await ny.get_by_label("Agency key").fill(york.split()[1])
        await ny.get_by_role("button", name="Sign in").click()
        await ny.goto(f"{base}/portal/new")
        year = clock.now().year + 1
        march = datetime(year, 3, 1) + timedelta(days=(6 - datetime(year, 3, 1).weekday()) % 7 + 7)
        november = datetime(year, 11, 1) + timedelta(days=(6 - datetime(year, 11, 1).weekday()) % 7)
        typed_ny = ny.get_by_label("Embargo until (America/New_York)")
        said = ny.locator("#embargo_until-utc")
        await typed_ny.fill(f"{march:%Y-%m-%d}T02:30")
        assert await said.inner_text() == "does not exist in America/New_York: the clocks skip it"
        await typed_ny.fill(f"{november:%Y-%m-%d}T01:30")
        assert await said.inner_text() == "happens twice in America/New_York: the clocks go back"
        await typed_ny.fill(f"{november:%Y-%m-%d}T03:00")
        assert await said.inner_text() == f"that is {november:%Y-%m-%d} 08:00 UTC"

        # Without scripts the form is whole: every kind's fields, each saying whose it is.
        plain = await browser.new_context(
            viewport={"width": 360, "height": 740}, locale="ja-JP", java_script_enabled=False
        )
        stack.push_async_callback(plain.close)
        bare = await plain.new_page()
        await bare.goto(f"{base}/portal")
        await bare.get_by_label("機関キー").fill(key)
        await bare.get_by_role("button", name="サインイン").click()
        await bare.goto(f"{base}/portal/new")
        assert await _shown(bare, "categories", *HIDDEN_FOR_SHORT_TERM) == [True] * 7
        assert "対象の種類：リコール" in await bare.locator("#advisory-form").inner_text()
        assert await fits_phone(bare)
        await bare.get_by_label("種類", exact=True).select_option("short_term")
        await bare.get_by_label("製品カテゴリー").fill("power_bank")
        await bare.locator("#gtins").fill("not a GTIN")  # another kind's: ignored
        await bare.locator("#title_en").fill("Heaters in winter")
        await bare.locator("#body_en").fill("Keep them clear of curtains.")
        await bare.locator("#embargo_until").fill(f"{embargo:%Y-%m-%dT%H:%M}")
        await bare.get_by_role("button", name="解禁日時まで非公開で登録する").click()
        assert await bare.locator("#state").inner_text() == "解禁前"
        assert await bare.locator("h1").inner_text() == "Heaters in winter"  # its only title
        await screenshot(bare, tmp_path, "portal-advisory-no-script-phone")

        # An operator reads the console in Japanese.
        credentials: HttpCredentials = {"username": "operator", "password": settings.operator_key}
        desk = await browser.new_context(locale="ja-JP", http_credentials=credentials)
        stack.push_async_callback(desk.close)
        console = await desk.new_page()
        await console.goto(f"{base}/console")
        assert await console.locator("h1").inner_text() == "コンソール"
        embargoed = await console.locator("#state-embargoed + .scroll").inner_text()
        assert "東京消防庁" in embargoed and "公開まで" in embargoed
        await screenshot(console, tmp_path, "console-ja")
