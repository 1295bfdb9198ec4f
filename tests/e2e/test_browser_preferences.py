"""In a real browser: a customer opens the link of their mail, turns one family of advice off,
finds the choice kept, then stops all mail; on a phone, in their language."""

from __future__ import annotations

import contextlib
from pathlib import Path

from shared.clock import Clock
from shared.config import Settings
from tests.service.test_mailer_api import _unsubscribe_link
from tests.service.test_mailer_preferences import suppressed_by
from tests.support.browser import chromium, fits_phone, screenshot
from tests.support.fixtures import run_services
from tests.support.mailer import advisory, customers, deliveries, nats, wait_states
from tests.support.smtp import SmtpSink


async def test_a_customer_chooses_their_advice_and_then_stops_all_in_a_browser(
    settings: Settings, clock: Clock, smtp_sink: SmtpSink, tmp_path: Path
) -> None:
    async with contextlib.AsyncExitStack() as stack:
        browser = await stack.enter_async_context(chromium())
        url = (await run_services(stack, settings, clock, "mailer"))["mailer"]
        nc = await stack.enter_async_context(nats(settings.nats_url))
        await customers(nc, ("c-1", "hanako@example.jp", "ja-JP", "Asia/Tokyo"))
        await advisory(nc, "adv-1")
        await deliveries(nc, "adv-1", ["c-1"])
        await wait_states(settings.database_url, {"sent": 1})
        link = _unsubscribe_link(url, smtp_sink.messages[0])

        context = await browser.new_context(viewport={"width": 375, "height": 740}, locale="ja")
        page = await context.new_page()
        await page.goto(link)
        assert await page.locator("h1").inner_text() == "安全のお知らせ"
        recent = page.get_by_label("最近ご購入の製品に関するお知らせ")
        assert await recent.is_checked() and await fits_phone(page)
        await recent.uncheck()
        await page.get_by_role("button", name="設定を保存する").click()
        assert "保存しました" in await page.get_by_role("status").inner_text()
        await page.goto(link)  # kept: shown again as chosen
        assert not await page.get_by_label("最近ご購入の製品に関するお知らせ").is_checked()
        assert await page.get_by_label("お住まいの地域で災害が起きたときのお知らせ").is_checked()
        await screenshot(page, tmp_path, "preferences")

        await advisory(nc, "adv-2")
        await deliveries(nc, "adv-2", ["c-1"])
        await wait_states(settings.database_url, {"sent": 1, "suppressed": 1})
        assert await suppressed_by(settings.database_url) == {"adv-2": "preference"}

        await page.get_by_role("button", name="すべての配信を停止する").click()
        assert "停止しました" in await page.get_by_role("status").inner_text()
        assert await page.locator("form").count() == 0
        await advisory(nc, "adv-3", kind="recall")
        await deliveries(nc, "adv-3", ["c-1"], kind="recall")
        await wait_states(settings.database_url, {"sent": 1, "suppressed": 2})
    assert len(smtp_sink.messages) == 1
