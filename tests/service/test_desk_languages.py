"""The desks in Japanese and English, and in the reader's own time zone: the language a browser
asks for or the reader picks, an agency's embargo typed in JST, the deadline on the portal."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import aiohttp
import msgspec
import pytest

from services.advisory.app import build
from shared import messages as m
from shared.clock import Clock
from shared.config import Settings
from tests.service.test_console import basic
from tests.service.test_console_portal import form, sign_in, token
from tests.support.advisory import new_agency, operator, responder
from tests.support.fixtures import running

JA = {"Accept-Language": "ja-JP,ja;q=0.9,en-US;q=0.8,en;q=0.7"}
EN = {"Accept-Language": "en-US,en;q=0.9"}
TOKYO = ZoneInfo("Asia/Tokyo")
NOTO = {
    "id": "us6000m0xl",
    "hazard": "earthquake",
    "title": "M7.5 Noto Peninsula, Japan",
    "area": {"type": "circle", "lat": 37.4874, "lon": 137.271, "radius_km": 170},
    "countries": ["JP"],
}


@pytest.fixture
async def browser() -> AsyncIterator[aiohttp.ClientSession]:
    """A client that keeps cookies, also for 127.0.0.1, as a browser does."""
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        yield session


async def html(
    session: aiohttp.ClientSession, url: str, headers: dict[str, str], status: int = 200
) -> str:
    reply = await session.get(url, headers=headers, allow_redirects=False)
    text = await reply.text()
    assert reply.status == status, text
    return text


async def test_the_desks_speak_the_browsers_language_until_the_reader_picks_one(
    settings: Settings, clock: Clock, browser: aiohttp.ClientSession
) -> None:
    async with running(build, settings, clock, settings.advisory_port) as base:
        login = await html(browser, f"{base}/portal", JA)
        assert '<html lang="ja">' in login and "<h1>サインイン</h1>" in login
        assert "機関キー" in login and "Agency key" not in login
        assert '<a href="?ui=en" hreflang="en" lang="en">English</a>' in login
        assert "<h1>Sign in</h1>" in await html(browser, f"{base}/portal", EN)
        # A value no desk speaks is ignored, and not remembered.
        forged = await browser.get(f"{base}/portal?ui=xx", headers=JA)
        assert "<h1>サインイン</h1>" in await forged.text()
        assert "anshin_desk_lang" not in forged.headers.get("Set-Cookie", "")

        picked = await browser.get(f"{base}/portal?ui=en", headers=JA)
        assert "<h1>Sign in</h1>" in await picked.text()
        cookie = picked.headers["Set-Cookie"]
        assert cookie.startswith("anshin_desk_lang=en;") and "Path=/;" in cookie
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
        # Remembered: the Japanese browser now reads English, on both desks.
        assert "<h1>Sign in</h1>" in await html(browser, f"{base}/portal", JA)
        console = await html(browser, f"{base}/console", JA | basic(settings))
        assert '<html lang="en">' in console and "<h1>Console</h1>" in console
        await browser.get(f"{base}/portal?ui=ja", headers=EN)
        console = await html(browser, f"{base}/console", EN | basic(settings))
        assert "<h1>コンソール</h1>" in console and "デッドレターはありません。" in console
        for path, words in (
            ("/console/drill", "災害の試算"),
            ("/console/suppressions", "アドレスを検索"),
            ("/console/providers", "メール事業者"),
        ):
            text = await html(browser, f"{base}{path}", EN | basic(settings))
            assert '<html lang="ja">' in text and words in text, path
        drill = await html(browser, f"{base}/console/drill", EN | basic(settings))
        event = json.dumps(NOTO | {"time": clock.now().isoformat()})
        fields = {"csrf": token(drill), "document": event, "format": "auto", "countries": ""}
        tried = await browser.post(
            f"{base}/console/drill", data=aiohttp.FormData(fields), headers=EN | basic(settings)
        )
        result = await tried.text()
        assert tried.status == 200 and "試算です。宣言、保存、送信は一切行っていません。" in result
        # A refusal is in the reader's language too.
        refused = await html(browser, f"{base}/console", EN, 401)
        assert "運用担当者専用です" in refused


def _tokyo_10am(clock: Clock, days: int) -> datetime:
    """10:00 in Tokyo, `days` from now."""
    day = clock.now().astimezone(TOKYO).date() + timedelta(days=days)
    return datetime(day.year, day.month, day.day, 10, 0, tzinfo=TOKYO)


async def test_a_tokyo_agency_types_its_times_in_jst_and_reads_them_beside_utc(
    settings: Settings, clock: Clock, http: aiohttp.ClientSession, browser: aiohttp.ClientSession
) -> None:
    async with running(build, settings, clock, settings.advisory_port) as base:
        key = (await new_agency(settings, "東京消防庁", "Asia/Tokyo"))["Authorization"].split()[1]
        await sign_in(browser, base, key)
        new = await html(browser, f"{base}/portal/new", JA)
        assert '<label for="embargo_until">解禁日時（Asia/Tokyo）</label>' in new
        assert 'data-kinds="recall"' in new and 'data-kinds="short_term long_term disaster"' in new
        embargo = _tokyo_10am(clock, 3)
        typed = f"{embargo:%Y-%m-%dT%H:%M}"
        due = embargo + timedelta(hours=2)
        data = form(typed, csrf=token(new), deliver_by=f"{due:%Y-%m-%dT%H:%M}")
        url = f"{base}/portal/advisories"
        created = await browser.post(url, data=data, headers=JA, allow_redirects=False)
        assert created.status == 303, await created.text()
        location = created.headers["Location"]
        stored = await http.get(
            f"{base}/v1/{location.removeprefix('/portal/')}",
            headers={"Authorization": f"Bearer {key}"},
        )
        answer = await stored.json()
        # 10:00 in Tokyo is 01:00 UTC.
        assert datetime.fromisoformat(answer["embargo_until"]) == embargo.astimezone(UTC)
        assert datetime.fromisoformat(answer["embargo_until"]).hour == 1

        async def estimate(data: bytes) -> bytes:
            return m.encode(m.AudienceEstimate(customers=42))

        async with responder(settings.nats_url, "matcher.audience", estimate):
            page = await html(browser, f"{base}{location}", JA)
        utc = embargo.astimezone(UTC)
        assert f"{embargo:%Y-%m-%d} 10:00 JST</time>" in page
        assert f'<span class="utc">({utc:%Y-%m-%d} 01:00 UTC)</span>' in page
        assert 'id="state">解禁前<' in page and "<dt>種類</dt><dd>短期</dd>" in page
        # The deadline, as the API's report says it: 42 mails at 200 a second are in time.
        deadline = re.search(r'<dd id="deadline" data-met="(\w+)">(.*?)</dd>', page, re.S)
        assert deadline is not None and deadline.group(1) == "met", page
        assert "間に合います" in deadline.group(2)
        assert f"{due:%Y-%m-%d} 12:00 JST" in deadline.group(2)

        # Too many for the rates: the page says so, and the rate that would do.
        async def many(data: bytes) -> bytes:
            return m.encode(m.AudienceEstimate(customers=3_000_000))

        async with responder(settings.nats_url, "matcher.audience", many):
            page = await html(browser, f"{base}{location}?ui=en", JA)
        deadline = re.search(r'<dd id="deadline" data-met="(\w+)">(.*?)</dd>', page, re.S)
        assert deadline is not None and deadline.group(1) == "missed"
        assert "will be missed" in deadline.group(2)
        assert "416.67 sends per second overall" in deadline.group(2)

        # A time the zone's clocks skip is refused, naming the field, before anything is kept.
        key_ny = (await new_agency(settings, "NY Fire", "America/New_York"))["Authorization"]
        other = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        async with other:
            await sign_in(other, base, key_ny.split()[1])
            csrf = token(await html(other, f"{base}/portal/new", JA))
            spring = _second_sunday_of_march(clock.now().year + 1)
            skipped = form(f"{spring:%Y-%m-%d}T02:30", csrf=csrf)
            refused = await other.post(url, data=skipped, headers=JA, allow_redirects=False)
            text = await refused.text()
            assert refused.status == 400
            error = re.search(r'<span class="error" id="embargo_until-error">([^<]*)<', text)
            assert error is not None and "存在しません" in error.group(1)
            assert 'value="' + f"{spring:%Y-%m-%d}T02:30" + '"' in text


def _second_sunday_of_march(year: int) -> datetime:
    first = datetime(year, 3, 1)
    return first + timedelta(days=(6 - first.weekday()) % 7 + 7)


async def test_an_agency_reads_and_sets_its_time_zone_through_the_api(
    settings: Settings, clock: Clock, http: aiohttp.ClientSession
) -> None:
    async with running(build, settings, clock, settings.advisory_port) as base:
        agency = await new_agency(settings, "製品評価技術基盤機構")
        reply = await http.get(f"{base}/v1/agency", headers=agency)
        assert reply.status == 200 and (await reply.json())["timezone"] == "UTC"
        changed = await http.patch(
            f"{base}/v1/agency", json={"timezone": "Asia/Tokyo"}, headers=agency
        )
        assert changed.status == 200 and (await changed.json())["timezone"] == "Asia/Tokyo"
        for body in ({"timezone": "Asia/Tokio"}, {"timezone": ""}, {"timezone": "x" * 65}):
            bad = await http.patch(f"{base}/v1/agency", json=body, headers=agency)
            assert bad.status == 400
            assert [d["field"] for d in (await bad.json())["details"]] == ["timezone"]
        unknown = await http.patch(
            f"{base}/v1/agency", json={"timezone": "UTC", "name": "x"}, headers=agency
        )
        assert unknown.status == 400 and (await unknown.json())["details"][0]["field"] == "name"
        assert (await http.get(f"{base}/v1/agency", headers=agency)).status == 200
        reply = await http.get(f"{base}/v1/agency", headers=agency)
        assert (await reply.json())["timezone"] == "Asia/Tokyo"
        assert (await http.get(f"{base}/v1/agency", headers=operator(settings))).status == 403
        assert (await http.get(f"{base}/v1/agency")).status == 401


async def test_the_console_shows_times_in_the_operators_zone_beside_utc(
    settings: Settings, clock: Clock, http: aiohttp.ClientSession
) -> None:
    tokyo = msgspec.structs.replace(settings, console_timezone="Asia/Tokyo")
    async with running(build, tokyo, clock, tokyo.advisory_port) as base:
        agency = await new_agency(tokyo, "国民生活センター")
        embargo = _tokyo_10am(clock, 2).astimezone(UTC)
        body = form(f"{embargo:%Y-%m-%dT%H:%M}")
        advisory = {
            "kind": "short_term",
            "categories": ["power_bank"],
            "title": {"en": body["title_en"], "ja": body["title_ja"]},
            "body": {"en": body["body_en"], "ja": body["body_ja"]},
            "embargo_until": embargo.isoformat(),
        }
        created = await http.post(f"{base}/v1/advisories", json=advisory, headers=agency)
        assert created.status == 201, await created.text()
        page = await html(http, f"{base}/console", JA | basic(tokyo))
        assert f"{embargo:%Y-%m-%d} 10:00 JST</time>" in page
        assert f"({embargo:%Y-%m-%d} 01:00 UTC)" in page
        assert '<th scope="col">解禁日時</th>' in page
