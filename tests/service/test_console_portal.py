"""The agency portal: sign-in cookie, CSRF, the advisory form, preview, audience, isolation."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import aiohttp
import msgspec
import pytest

from services.advisory.app import build
from shared import categories
from shared import messages as m
from shared.clock import Clock
from shared.config import Settings
from tests.service.test_console import basic, page
from tests.support.advisory import new_agency, responder
from tests.support.fixtures import running


@pytest.fixture
async def browser() -> AsyncIterator[aiohttp.ClientSession]:
    """A client that keeps cookies, also for 127.0.0.1, as a browser does."""
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        yield session


async def sign_in(session: aiohttp.ClientSession, base: str, key: str) -> aiohttp.ClientResponse:
    return await session.post(f"{base}/portal/login", data={"key": key}, allow_redirects=False)


def token(html: str) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', html)
    assert found is not None
    return found.group(1)


def form(embargo: str, **changes: str) -> dict[str, str]:
    values = {
        "kind": "short_term",
        "categories": "power_bank, lithium_battery",
        "window_days": "30",
        "title_en": "Using your power bank safely",
        "body_en": "Never charge it **unattended**.",
        "title_ja": "モバイルバッテリーの安全な使い方",
        "body_ja": "充電中は目を離さないでください。",
        "embargo_until": embargo,
        "source_url": "https://agency.example/power-banks",
    }
    return values | changes


async def test_an_agency_signs_in_submits_through_the_form_and_previews(
    settings: Settings, clock: Clock, http: aiohttp.ClientSession, browser: aiohttp.ClientSession
) -> None:
    async with running(build, settings, clock, settings.advisory_port) as base:
        mine = (await new_agency(settings, "製品安全研究所"))["Authorization"].split()[1]
        theirs = (await new_agency(settings, "Fire Department"))["Authorization"].split()[1]

        login = await browser.get(f"{base}/portal")
        assert login.status == 200 and 'type="password"' in await login.text()
        for wrong in ("", "ak_wrong", settings.operator_key):
            refused = await sign_in(browser, base, wrong)
            assert refused.status == 401 and "Set-Cookie" not in refused.headers
        cross = await browser.post(
            f"{base}/portal/login", data={"key": mine}, headers={"Origin": "http://evil.example"}
        )
        assert cross.status == 403
        signed = await sign_in(browser, base, mine)
        assert signed.status == 303 and signed.headers["Location"] == "/portal"
        cookie = signed.headers["Set-Cookie"]
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/portal" in cookie
        assert mine not in cookie, "the cookie holds a session's id, never the key"

        new = await page(browser, f"{base}/portal/new", {})
        csrf = token(new)
        for label in ('for="categories"', 'for="title_en"', 'for="embargo_until"'):
            assert label in new
        # Every code an agency may name is on the form, and the hints use only real ones.
        assert new.count("<li><code>") == len(categories.CODES)
        assert "<code>electric_heater</code> Electric heater" in new
        hints = re.findall(r'class="hint" id="[a-z_]+-hint">([^<]*)<', new)
        examples = {w for hint in hints for w in re.findall(r"\b[a-z]+_[a-z_]+\b", hint)}
        assert examples and examples <= categories.CODES, examples
        later = (clock.now() + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S")
        url = f"{base}/portal/advisories"

        no_token = await browser.post(url, data=form(later), allow_redirects=False)
        assert no_token.status == 403
        bad = await browser.post(
            url,
            data=form(later, csrf=csrf, title_en="", categories="Power Bank!", body_fr="Seul"),
            allow_redirects=False,
        )
        text = await bad.text()
        assert bad.status == 400
        for field in ("title_en", "categories", "title_fr"):
            assert f'id="{field}-error"' in text, field
        assert 'href="#categories">Product categories</a>' in text  # the summary names labels
        assert 'value="Power Bank!"' in text  # what was typed comes back to be corrected

        hasty = await browser.post(
            url, data=form(later, csrf=csrf, deliver_by=later), allow_redirects=False
        )
        assert hasty.status == 400 and 'id="deliver_by-error"' in await hasty.text()
        due = (clock.now() + timedelta(hours=3)).replace(microsecond=0)
        typed = due.strftime("%Y-%m-%dT%H:%M:%S")
        created = await browser.post(
            url, data=form(later, csrf=csrf, deliver_by=typed), allow_redirects=False
        )
        assert created.status == 303, await created.text()
        location = created.headers["Location"]
        advisory_id = location.rsplit("/", 1)[1]
        stored = await http.get(
            f"{base}/v1/advisories/{advisory_id}", headers={"Authorization": f"Bearer {mine}"}
        )
        assert datetime.fromisoformat((await stored.json())["deliver_by"]) == due

        async def estimate(data: bytes) -> bytes:
            question = msgspec.json.decode(data, type=m.AudienceRequest)
            assert question.rule.concerns().categories == ["power_bank", "lithium_battery"]
            return m.encode(m.AudienceEstimate(customers=42))

        async with responder(settings.nats_url, "matcher.audience", estimate) as heard:
            html = await page(browser, f"{base}{location}?lang=ja", {})
        assert b"unattended" not in heard[0]
        assert '<strong id="audience-count">42</strong>' in html
        assert 'id="preview-subject" lang="ja">モバイルバッテリーの安全な使い方<' in html
        assert "<iframe" in html and " sandbox " in html and "製品安全研究所" in html
        assert "After publication" in html and 'id="state">embargoed<' in html
        assert re.search(r'data-left="(35\d\d)"', html)
        english = await page(browser, f"{base}{location}", {})
        assert 'lang="en">Using your power bank safely<' in english
        assert "No estimate now: the matcher is not available" in english

        mine_list = await page(browser, f"{base}/portal", {})
        assert advisory_id in mine_list and "Advisories of 製品安全研究所" in mine_list

        # Another agency sees neither the advisory nor its words; operators see it.
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as other:
            assert (await sign_in(other, base, theirs)).status == 303
            listing = await page(other, f"{base}/portal", {})
            assert advisory_id not in listing and "power bank" not in listing
            hidden = await other.get(f"{base}{location}")
            assert hidden.status == 404 and "power bank" not in await hidden.text()
            missing = await other.get(f"{base}/portal/advisories/adv_nope")
            assert missing.status == 404
        console = await page(http, f"{base}/console", basic(settings))
        assert advisory_id in console
        anonymous = await http.get(f"{base}{location}", allow_redirects=False)
        assert anonymous.status == 303 and anonymous.headers["Location"] == "/portal"

        out = await browser.post(
            f"{base}/portal/logout", data={"csrf": csrf}, allow_redirects=False
        )
        assert out.status == 303
        after = await browser.get(f"{base}{location}", allow_redirects=False)
        assert after.status == 303
