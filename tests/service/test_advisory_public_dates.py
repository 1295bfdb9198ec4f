"""The public pages date advice as their reader's language writes dates, in its usual zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import aiohttp
import msgspec

from services.advisory.app import build
from shared.clock import Clock
from shared.config import Settings
from tests.support.advisory import eventually, new_agency
from tests.support.fixtures import running
from tests.support.mailer import set_time
from tests.support.shop import power_bank_advisory

# 05:00 on 1 December in Tokyo, 21:00 on 30 November in Paris; it expires at 08:30 on
# 1 January in Tokyo, 00:30 on 1 January in Paris, 23:30 on 31 December in UTC.
EMBARGO = datetime(2026, 11, 30, 20, 0, tzinfo=UTC)
EXPIRES = datetime(2026, 12, 31, 23, 30, tzinfo=UTC)
SHOWN = {
    "ja": ("公開日 2026年12月1日", "2027年1月1日まで有効"),
    "fr": ("Publié le 30 novembre 2026", "Valable jusqu&#39;au 1 janvier 2027"),
    "en": ("Published on November 30, 2026", "Current until December 31, 2026"),
}


async def _published(
    settings: Settings, clock: Clock, http: aiohttp.ClientSession, base: str
) -> str:
    set_time(clock, EMBARGO - timedelta(minutes=5))
    key = await new_agency(settings, "NITE")
    body = power_bank_advisory(EMBARGO) | {"expires_at": EXPIRES.isoformat()}
    created = await http.post(f"{base}/v1/advisories", json=body, headers=key)
    advisory_id: str = (await created.json())["id"]
    clock.advance(timedelta(minutes=6))

    async def public() -> bool:
        return (await http.get(f"{base}/safety/{advisory_id}")).status == 200

    await eventually(public)
    return advisory_id


async def test_each_language_reads_the_date_of_its_usual_zone(
    settings: Settings, clock: Clock, http: aiohttp.ClientSession
) -> None:
    async with running(build, settings, clock, settings.advisory_port) as base:
        advisory_id = await _published(settings, clock, http, base)
        for lang, (published, expires) in SHOWN.items():
            page = await (await http.get(f"{base}/safety/{advisory_id}?lang={lang}")).text()
            assert published in page and expires in page, (lang, page)
            assert "2026-11-30" not in page.split("datetime=")[0]
            listing = await (await http.get(f"{base}/safety?lang={lang}")).text()
            assert published in listing, (lang, listing)


async def test_a_shop_may_date_its_pages_in_its_own_zone(
    settings: Settings, clock: Clock, http: aiohttp.ClientSession
) -> None:
    settings = msgspec.structs.replace(settings, public_timezone="Asia/Tokyo")
    async with running(build, settings, clock, settings.advisory_port) as base:
        advisory_id = await _published(settings, clock, http, base)
        page = await (await http.get(f"{base}/safety/{advisory_id}?lang=en")).text()
    assert "Published on December 1, 2026" in page and "Current until January 1, 2027" in page
