"""The portal's amendment form: an agency corrects its published advisory in the browser,
and the correction goes out as through the API (a new version on the bus, the public page
with the correction's date); a mistake is named beside its field."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import aiohttp

from services.advisory.app import build
from shared.bus import Subjects
from shared.clock import Clock
from shared.config import Settings
from tests.service.test_console import page
from tests.service.test_console_portal import sign_in, token
from tests.support.advisory import new_agency, stream_messages
from tests.support.fixtures import running
from tests.support.mailer import eventually
from tests.support.shop import expect, power_bank_advisory


async def test_an_agency_corrects_its_published_advisory_in_the_portal(
    settings: Settings, clock: Clock, http: aiohttp.ClientSession
) -> None:
    async with (
        running(build, settings, clock, settings.advisory_port) as base,
        aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as browser,
    ):
        mine = await new_agency(settings, "NITE")
        advisory = power_bank_advisory(clock.now() + timedelta(minutes=5))
        created = await expect(
            await http.post(f"{base}/v1/advisories", json=advisory, headers=mine), 201
        )
        clock.advance(timedelta(minutes=5, seconds=1))
        api = f"{base}/v1/advisories/{created['id']}"

        async def published() -> bool:
            return bool((await expect(await http.get(api, headers=mine), 200))["published_at"])

        await eventually(published)
        assert (await sign_in(browser, base, mine["Authorization"].split()[1])).status == 303
        one = await page(browser, f"{base}/portal/advisories/{created['id']}", {})
        assert f'href="/portal/advisories/{created["id"]}/amend"' in one
        url = f"{base}/portal/advisories/{created['id']}/amend"
        form = await page(browser, url, {})
        assert 'id="amend-effect"' in form and "correction" in form
        assert advisory["body"]["fr"] in form, "the form holds the advice as it stands"
        csrf = token(form)

        fields = {
            "csrf": csrf,
            "categories": "power_bank",
            **{f"title_{lang}": text for lang, text in advisory["title"].items()},
            **{f"body_{lang}": text for lang, text in advisory["body"].items()},
        }
        past = (clock.now() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
        wrong = await browser.post(url, data=fields | {"embargo_until": past})
        assert wrong.status == 400
        assert 'id="embargo_until-error">must not be in the past<' in await wrong.text()

        fixed = "Never charge it unattended, nor near anything that burns."
        done = await browser.post(url, data=fields | {"body_en": fixed}, allow_redirects=False)
        assert done.status == 303, await done.text()
        twice = await browser.post(url, data=fields | {"body_en": fixed})
        assert twice.status == 400 and "changes nothing" in await twice.text()
        now = await expect(await http.get(api, headers=mine), 200)
        assert now["version"] == 2 and now["body"]["en"] == fixed
        assert now["corrected_at"] is not None and now["body"]["fr"] == advisory["body"]["fr"]

        async def on_the_bus() -> bool:
            events = await stream_messages(settings.nats_url, "ADVISORIES")
            return [e["version"] for s, e in events if s == Subjects.ADVISORIES_PUBLISHED] == [1, 2]

        await eventually(on_the_bus)
        public = await (await http.get(f"{base}/safety/{created['id']}?lang=en")).text()
        assert fixed in public and "Corrected on " in public


async def test_a_tokyo_agency_amends_in_japanese_its_embargo_read_in_tokyo_time(
    settings: Settings, clock: Clock, http: aiohttp.ClientSession
) -> None:
    """The amendment form speaks the agency's language and reads its times in its zone, as
    the new-advisory form does: 10:00 typed in Tokyo is 01:00 UTC."""
    async with (
        running(build, settings, clock, settings.advisory_port) as base,
        aiohttp.ClientSession(
            cookie_jar=aiohttp.CookieJar(unsafe=True), headers={"Accept-Language": "ja"}
        ) as browser,
    ):
        mine = await new_agency(settings, "消防庁", timezone="Asia/Tokyo")
        advisory = power_bank_advisory(clock.now() + timedelta(days=2))
        created = await expect(
            await http.post(f"{base}/v1/advisories", json=advisory, headers=mine), 201
        )
        assert (await sign_in(browser, base, mine["Authorization"].split()[1])).status == 303
        url = f"{base}/portal/advisories/{created['id']}/amend"
        form = await (await browser.get(url)).text()
        assert '<html lang="ja"' in form and "解禁日時（Asia/Tokyo、任意）" in form
        assert "まだ解禁前のため" in form
        later = (clock.now() + timedelta(days=3)).astimezone(ZoneInfo("Asia/Tokyo"))
        typed = later.replace(hour=10, minute=0, second=0, microsecond=0)
        fields = {
            "csrf": token(form),
            "categories": "power_bank",
            "embargo_until": typed.strftime("%Y-%m-%dT%H:%M"),
            **{f"title_{lang}": text for lang, text in advisory["title"].items()},
            **{f"body_{lang}": text for lang, text in advisory["body"].items()},
        }
        done = await browser.post(url, data=fields, allow_redirects=False)
        assert done.status == 303, await done.text()
        stored = await expect(
            await http.get(f"{base}/v1/advisories/{created['id']}", headers=mine), 200
        )
        assert datetime.fromisoformat(stored["embargo_until"]) == typed.astimezone(UTC)
        assert typed.astimezone(UTC).hour == 1
