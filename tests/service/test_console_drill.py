"""The console's dry run: an operator uploads or pastes an event document and sees whom each
playbook would reach, by area, with nothing declared, stored or sent. Advisory and matcher
in-process against real NATS and PostgreSQL; the document is JMA's own VXSE53 sample."""

from __future__ import annotations

import contextlib
import re
from datetime import UTC, datetime, timedelta
from html import unescape
from pathlib import Path

import aiohttp

from shared import messages as m
from shared.clock import Clock
from shared.config import Settings
from tests.service.test_console import basic, page, section
from tests.service.test_console_disaster_places import rows
from tests.service.test_matcher_kit import placed, shop, small
from tests.support.advisory import disaster_playbook, eventually, new_agency
from tests.support.fixtures import run_services

GEN = ["portable_generator"]
JMA = Path(__file__).parents[1] / "fixtures" / "jma"
# 平成20年岩手・宮城内陸地震, Serial 3: some 700 municipalities, 奥州市 at 6+, 北上市 5+, 花巻市 4.
IWATE = JMA / "32-35_06_05_240613_VXSE53.xml"
DRILL = JMA / "32-35_01_03_240613_VXSE53.xml"  # Control/Status 訓練


def csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "the form carries its token"
    return found.group(1)


async def post(
    http: aiohttp.ClientSession, url: str, headers: dict[str, str], **fields: str | bytes
) -> tuple[int, str]:
    """The form posted as a browser does (multipart), a bytes field as an uploaded file."""
    form = aiohttp.FormData()
    for name, value in fields.items():
        if isinstance(value, bytes):
            form.add_field(name, value, filename="event.xml", content_type="application/xml")
        else:
            form.add_field(name, value)
    async with http.post(url, data=form, headers=headers) as reply:
        return reply.status, await reply.text()


async def test_an_uploaded_jma_report_is_dry_run_by_area_and_nothing_is_sent(
    settings: Settings, clock: Clock, http: aiohttp.ClientSession
) -> None:
    settings = small(settings)
    now = clock.now()
    quake = datetime(2008, 6, 13, 23, 43, tzinfo=UTC)
    async with contextlib.AsyncExitStack() as stack:
        urls = await run_services(stack, settings, clock, "advisory", "matcher")
        base, ops = urls["advisory"], basic(settings)
        s = await stack.enter_async_context(shop(settings))
        for customer, code, lat, lon in (
            ("c-oshu", "03215", 39.14, 141.14),
            ("c-oshu-2", "03215", 39.16, 141.12),
            ("c-kitakami", "03206", 39.29, 141.11),
            ("c-hanamaki", "03205", 39.39, 141.12),  # at 4: below the playbook's 5-
        ):
            where = m.Location(country="JP", area_code=code, lat=lat, lon=lon)
            await s.send(placed(customer, quake - timedelta(days=20), GEN, where=where))
        agency = await new_agency(settings, "FDMA")
        body = disaster_playbook(now + timedelta(minutes=1))
        reply = await http.post(f"{base}/v1/advisories", json=body, headers=agency)
        playbook = (await reply.json())["id"]
        clock.advance(timedelta(minutes=2))

        async def published() -> bool:
            answer = await (
                await http.get(f"{base}/v1/advisories/{playbook}", headers=agency)
            ).json()
            return bool(answer["state"] == "published")

        await eventually(published)
        await s.idle(clock)

        form = await page(http, f"{base}/console/drill", ops)
        token = csrf(form)
        status, html = await post(
            http, f"{base}/console/drill", ops, csrf=token, document="", format="auto",
            countries="", file=IWATE.read_bytes(),
        )  # fmt: skip
        assert status == 200, html
        # A drill (訓練) is heard: nothing counted.
        heard_status, heard = await post(
            http, f"{base}/console/drill", ops, csrf=token,
            document=DRILL.read_text(encoding="utf-8"), format="application/xml", countries="",
        )  # fmt: skip
        # A broken document: 400, the problem named, what was typed given back.
        bad_status, bad = await post(
            http, f"{base}/console/drill", ops, csrf=token, document='{"hazard": "quake"}',
            format="auto", countries="",
        )  # fmt: skip
        forged_status, _ = await post(
            http, f"{base}/console/drill", ops, csrf="forged", document="{}", format="auto"
        )
        await s.idle(clock)
        assert await s.batches() == []
        info = await s.nc.jetstream().stream_info("DISASTERS")
        assert info.state.messages == 0

    assert 'data-drill-outcome="drill"' in html
    playbooks = section(html, "drill-playbooks")
    row = re.search(rf'<tr data-playbook="{playbook}">(.*?)</tr>', playbooks, re.S)
    assert row, playbooks
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row.group(1), re.S)
    assert cells[1] == "3"
    assert "岩手県奥州市 (03215, 6+): 2" in unescape(cells[2])
    assert "岩手県北上市 (03206, 5+): 1" in unescape(cells[2])
    assert "03205" not in cells[2]
    listed = rows(html, "jis")
    # Every municipality of the report, once each (JMA's seven digits as JIS's five).
    cities = re.findall(r"<City><Name>[^<]*</Name><Code>(\d{5})", IWATE.read_text("utf-8"))
    assert len(listed) == len(set(cities)) > 700
    assert listed[:2] == [
        ["03215", "岩手県奥州市", "6+", "2"],
        ["03206", "岩手県北上市", "5+", "1"],
    ]
    assert ["03205", "岩手県花巻市", "4", "0"] in listed
    svg = html[html.index('<svg class="map"') : html.index("</svg>", html.index('class="map"'))]
    assert "岩手県奥州市 (03215): 6+, 2 customers" in unescape(svg)

    assert heard_status == 200
    assert 'data-drill-outcome="heard"' in heard and "訓練" in heard
    assert bad_status == 400
    assert "data-drill-error" in bad and "area" in unescape(bad)
    assert "{&#34;hazard&#34;: &#34;quake&#34;}" in bad  # what was pasted comes back, escaped
    assert forged_status == 403
