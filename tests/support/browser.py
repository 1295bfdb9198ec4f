"""Headless Chromium for the browser tests: Debian's `chromium`, driven by Playwright.

Playwright's own browser download is never used (`playwright install` is not run): the
browser is the system's, at CHROMIUM. Without it the browser tests are skipped, except
under CI (CI set), where its absence is a failure: `.ci/run` installs it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import nats
import pytest
from playwright.async_api import Browser, Page, async_playwright

from shared import messages as m
from shared.config import Settings
from tests.support.advisory import eventually

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def require_chromium() -> None:
    """Skip (with the reason) where Chromium is missing, unless this is CI."""
    if not os.path.exists(CHROMIUM) and not os.environ.get("CI"):
        pytest.skip(f"{CHROMIUM} is missing: apt-get install -y chromium (CI installs it)")


@contextlib.asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    """A headless Chromium, closed afterwards."""
    require_chromium()
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield browser
        finally:
            await browser.close()


async def screenshot(page: Page, folder: Path, name: str) -> Path:
    """A full-page PNG of what the page shows now, under the test's folder."""
    path = folder / f"{name}.png"
    await page.screenshot(path=str(path), full_page=True)
    return path


async def reload_until(
    page: Page, ready: Callable[[], Awaitable[bool]], timeout: float = 20
) -> None:
    """Reload the page until `ready()` says what the test waits for is shown."""
    async with asyncio.timeout(timeout):
        while not await ready():
            await asyncio.sleep(0.3)
            await page.reload()


async def fits_phone(page: Page) -> bool:
    """Whether the page needs no horizontal scrolling at its viewport's width."""
    overflow = await page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    return bool(overflow <= 1)


async def matcher_knows_buyers(settings: Settings, category: str, n: int) -> None:
    """Wait until the matcher estimates `n` buyers of `category` (it has read the orders)."""
    nc = await nats.connect(settings.nats_url)
    question = m.AudienceRequest(rule=m.ShortTerm(categories=[category]))

    async def known() -> bool:
        reply = await nc.request("matcher.audience", m.encode(question), timeout=2)
        customers: int = m.decoder(m.AudienceEstimate).decode(reply.data).customers
        return customers == n

    try:
        await eventually(known, timeout=20)
    finally:
        await nc.close()
