"""The operators' console: advisories by state, an advisory's reach and versions, a disaster."""

from __future__ import annotations

import base64
import re
from datetime import timedelta

import aiohttp
import msgspec

from services.advisory.app import build
from shared import messages as m
from shared.bus import CONSUMERS
from shared.clock import Clock
from shared.config import Settings
from tests.support.advisory import disaster_playbook, eventually, new_agency, operator, responder
from tests.support.fixtures import running
from tests.support.shop import power_bank_advisory


def basic(settings: Settings) -> dict[str, str]:
    """The operator key as the password of HTTP Basic, as a browser sends it."""
    token = base64.b64encode(f"operator:{settings.operator_key}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


async def page(http: aiohttp.ClientSession, url: str, headers: dict[str, str]) -> str:
    """The HTML of a console page, checking it is private and well-formed enough."""
    reply = await http.get(url, headers=headers, allow_redirects=False)
    text = await reply.text()
    assert reply.status == 200, text
    assert reply.headers["Cache-Control"] == "private, no-store"
    assert "script-src 'nonce-" in reply.headers["Content-Security-Policy"]
    assert text.count("<h1>") == 1 and '<html lang="en">' in text
    return text


def section(html: str, heading_id: str) -> str:
    """The HTML from the heading with this id to the next heading of its level or higher."""
    start = html.index(f'id="{heading_id}"')
    level = html[start - 3 : start - 1].strip("<h ")
    end = re.search(rf"<h[1-{level}][ >]", html[start:])
    return html[start : start + end.start()] if end else html[start:]


async def submit(
    http: aiohttp.ClientSession, base: str, body: dict[str, object], who: dict[str, str]
) -> str:
    reply = await http.post(f"{base}/v1/advisories", json=body, headers=who)
    assert reply.status == 201, await reply.text()
    return str((await reply.json())["id"])


async def state_of(
    http: aiohttp.ClientSession, base: str, advisory_id: str, who: dict[str, str]
) -> str:
    reply = await http.get(f"{base}/v1/advisories/{advisory_id}", headers=who)
    return str((await reply.json())["state"])


async def test_console_lists_advisories_by_state_with_countdowns_and_consumers(
    settings: Settings, clock: Clock, http: aiohttp.ClientSession
) -> None:
    async with running(build, settings, clock, settings.advisory_port) as base:
        agency = await new_agency(settings, "製品安全研究所")
        later = await submit(
            http, base, power_bank_advisory(clock.now() + timedelta(hours=2)), agency
        )
        soon = await submit(
            http, base, power_bank_advisory(clock.now() + timedelta(seconds=30)), agency
        )
        gone = await submit(
            http, base, power_bank_advisory(clock.now() + timedelta(days=3)), agency
        )
        await http.post(f"{base}/v1/advisories/{gone}/withdraw", headers=agency)
        clock.advance(timedelta(seconds=31))
        await eventually(lambda: _is(http, base, soon, agency, "published"))

        html = await page(http, f"{base}/console", basic(settings))
        embargoed, published = section(html, "state-embargoed"), section(html, "state-published")
        assert later in embargoed and soon not in embargoed and gone not in embargoed
        assert soon in published and later not in published
        assert gone in section(html, "state-withdrawn")
        # The countdown is the service clock's: 2 h less the 31 s the test moved it.
        left = int(re.search(r'data-left="(\d+)"', embargoed).group(1))  # type: ignore[union-attr]
        assert 7160 <= left <= 7169
        assert re.search(r">01:59:[12]\d<", embargoed), embargoed
        assert "製品安全研究所" in embargoed
        # Every durable consumer of the topology, with its lag.
        consumers = section(html, "consumers")
        for durable in CONSUMERS:
            assert f"<code>{durable}</code>" in consumers
        assert "No dead letters." in html

        for headers in ({}, {"Authorization": "Basic b3A6d3Jvbmc="}, agency):
            for path in ("/console", f"/console/advisories/{later}"):
                refused = await http.get(f"{base}{path}", headers=headers)
                text = await refused.text()
                assert refused.status == 401 and "Basic" in refused.headers["WWW-Authenticate"]
                assert later not in text and "モバイルバッテリー" not in text


async def test_an_advisorys_page_charts_its_reach_and_lists_its_versions(
    settings: Settings, clock: Clock, http: aiohttp.ClientSession
) -> None:
    async with running(build, settings, clock, settings.advisory_port) as base:
        agency = await new_agency(settings, "Consumer Safety Institute")
        advisory_id = await submit(
            http, base, power_bank_advisory(clock.now() + timedelta(seconds=30)), agency
        )
        url = f"{base}/console/advisories/{advisory_id}"
        before = await page(http, url, basic(settings))
        assert "Not published yet" in before and "No deliveries yet" in before
        amended = await http.patch(
            f"{base}/v1/advisories/{advisory_id}",
            json={
                "title": {"en": "Power banks: charge with care", "ja": "充電に注意", "fr": "Charge"}
            },
            headers=agency,
        )
        assert amended.status == 200
        clock.advance(timedelta(seconds=31))
        await eventually(lambda: _is(http, base, advisory_id, agency, "published"))

        # Without a mailer the page still shows, and says why there is no reach.
        html = await page(http, url, basic(settings))
        assert "the mailer is not available" in html

        async def reach(data: bytes) -> bytes:
            question = msgspec.json.decode(data, type=m.ReportRequest)
            assert question.advisory_id == advisory_id
            by_day = [
                m.requests.DayCount(day="2026-01-01", counts={"sent": 2, "queued": 1}),
                m.requests.DayCount(
                    day="2026-01-02", counts={"sent": 1, "suppressed": 1, "failed": 1}
                ),
            ]
            counts = {"sent": 3, "queued": 1, "suppressed": 1, "failed": 1}
            report = m.ReachReport(advisory_id=advisory_id, counts=counts, by_day=by_day)
            return m.encode(report)

        async with responder(settings.nats_url, "mailer.report", reach):
            html = await page(http, url, basic(settings))
        assert "<h1>Power banks: charge with care</h1>" in html
        assert "Consumer Safety Institute" in html
        totals = dict(re.findall(r'data-series="(\w+)">(\d+)<', html))
        assert totals == {
            "matched": "6",
            "sent": "3",
            "waiting": "1",
            "suppressed": "1",
            "failed": "1",
        }
        chart = html[html.index('<svg class="chart"') : html.index("</svg>")]
        assert "<title>2026-01-01: 2 sent</title>" in chart
        assert "<title>2026-01-02: 1 failed</title>" in chart
        assert len(re.findall(r"<rect [^>]*fill=", chart)) >= 5
        versions = section(html, "versions")
        assert versions.index(">2<") < versions.index(">1<")
        assert "Using your power bank safely" in versions and "charge with care" in versions

        missing = await http.get(f"{base}/console/advisories/adv_nope", headers=basic(settings))
        assert missing.status == 404


async def test_a_disasters_page_maps_its_area_and_adds_up_its_playbooks_reach(
    settings: Settings, clock: Clock, http: aiohttp.ClientSession
) -> None:
    async with running(build, settings, clock, settings.advisory_port) as base:
        agency = await new_agency(settings, "FDMA")
        playbook = await submit(
            http, base, disaster_playbook(clock.now() + timedelta(seconds=30)), agency
        )
        clock.advance(timedelta(seconds=31))
        await eventually(lambda: _is(http, base, playbook, agency, "published"))
        noto = {
            "hazard": "earthquake",
            "title": "M7.5 Noto Peninsula",
            "time": clock.now().isoformat(),
            "area": {"type": "circle", "lat": 37.4874, "lon": 137.271, "radius_km": 170},
            "countries": ["JP"],
        }
        declared = await http.post(f"{base}/v1/events", json=noto, headers=operator(settings))
        assert declared.status == 201, await declared.text()
        disaster_id = (await declared.json())["id"]

        overview = await page(http, f"{base}/console", basic(settings))
        assert f'href="/console/disasters/{disaster_id}"' in section(overview, "disasters")

        async def reach(data: bytes) -> bytes:
            question = msgspec.json.decode(data, type=m.ReportRequest)
            counts = {"sent": 120, "queued": 30}
            return m.encode(m.ReachReport(advisory_id=question.advisory_id, counts=counts))

        async with responder(settings.nats_url, "mailer.report", reach):
            html = await page(http, f"{base}/console/disasters/{disaster_id}", basic(settings))
        assert "<h1>M7.5 Noto Peninsula</h1>" in html
        assert "<strong data-reached>120</strong> sent of 150 matched" in html
        svg = html[html.index('<svg class="map"') : html.index("</svg>", html.index('class="map"'))]
        assert "circle of 170 km at 37.49, 137.27" in svg
        assert svg.count('class="area"') == 1
        # Japan's outline, and the area drawn over the Noto peninsula, inside the picture.
        width, height = map(float, re.search(r'viewBox="0 0 (\S+) (\S+)"', svg).groups())  # type: ignore[union-attr]
        assert height > width  # Japan, from Kyushu to Hokkaido, is taller than wide
        assert playbook in section(html, "playbooks")

        missing = await http.get(f"{base}/console/disasters/dis_nope", headers=basic(settings))
        assert missing.status == 404


async def _is(
    http: aiohttp.ClientSession, base: str, advisory_id: str, who: dict[str, str], state: str
) -> bool:
    return await state_of(http, base, advisory_id, who) == state
