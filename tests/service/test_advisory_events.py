"""Disasters on POST /v1/events activate the matching playbooks once, whatever the feed."""

from __future__ import annotations

import base64
import io
import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg

from services.advisory.app import build
from shared.clock import Clock
from shared.config import Settings
from tests.support.advisory import (
    contract,
    disaster_playbook,
    eventually,
    new_agency,
    operator,
    stream_messages,
)
from tests.support.fixtures import running
from tests.unit.test_advisory_feeds import BOMB

EVENTS = "/v1/events"
FIXTURES = Path(__file__).parent.parent / "fixtures" / "cap"
CAP_XML = {"Content-Type": "application/cap+xml"}


def cap_alert(sent: datetime, identifier: str, references: str = "") -> bytes:
    refs = f"<references>{references}</references>" if references else ""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>{identifier}</identifier><sender>jma@example.jp</sender>
  <sent>{sent.isoformat()}</sent><status>Actual</status>
  <msgType>{"Update" if refs else "Alert"}</msgType><scope>Public</scope>{refs}
  <info><category>Geo</category><event>Earthquake</event><urgency>Immediate</urgency>
    <severity>Extreme</severity><certainty>Observed</certainty><headline>Noto quake</headline>
    <area><areaDesc>Noto</areaDesc><circle>37.5,137.27 80</circle>
      <geocode><valueName>ISO 3166-2</valueName><value>JP-17</value></geocode></area>
  </info>
</alert>""".encode()


def usgs(occurred: datetime, mag: float) -> dict[str, Any]:
    return {
        "type": "Feature",
        "id": "us6000m0xl",
        "properties": {"mag": mag, "time": int(occurred.timestamp() * 1000), "title": "M 7.5"},
        "geometry": {"type": "Point", "coordinates": [137.27, 37.49, 10.0]},
    }


async def _playbooks(base: str, http: aiohttp.ClientSession, headers: Any, now: datetime) -> Any:
    at = now + timedelta(minutes=1)
    later = now + timedelta(days=1)
    ids = {}
    for name, body in {
        "jp_quake": disaster_playbook(at),
        "fr_quake": disaster_playbook(at, countries=["FR"]),
        "jp_typhoon": disaster_playbook(at, hazards=["typhoon", "flood"]),
        "withdrawn": disaster_playbook(at),
        "embargoed": disaster_playbook(later),
    }.items():
        reply = await http.post(f"{base}/v1/advisories", json=body, headers=headers)
        ids[name] = (await reply.json())["id"]
    await http.post(f"{base}/v1/advisories/{ids['withdrawn']}/withdraw", headers=headers)
    return ids


async def test_a_disaster_activates_matching_playbooks_once(
    settings: Settings, clock: Clock, http: aiohttp.ClientSession
) -> None:
    async with running(build, settings, clock, settings.advisory_port) as base:
        api = await contract(http, base)
        ids = await _playbooks(base, http, await new_agency(settings, "FDMA"), clock.now())
        clock.advance(timedelta(minutes=2))
        await eventually(lambda: _count(settings, "advisories WHERE state = 'published'", 3))
        ops = operator(settings)
        url = f"{base}{EVENTS}"

        first = await api.check(
            await http.post(url, data=cap_alert(clock.now(), "A-1"), headers=ops | CAP_XML),
            EVENTS,
            201,
        )
        assert first["advisory_ids"] == [ids["jp_quake"]] and first["countries"] == ["JP"]
        assert first["areas"][0] == {
            "type": "circle",
            "lat": 37.5,
            "lon": 137.27,
            "radius_km": 80.0,
        }
        # The same alert again, and an update naming it, are the same disaster.
        again = await api.check(
            await http.post(url, data=cap_alert(clock.now(), "A-1"), headers=ops | CAP_XML),
            EVENTS,
            200,
        )
        refs = f"jma@example.jp,A-1,{clock.now().isoformat()}"
        update = await api.check(
            await http.post(url, data=cap_alert(clock.now(), "A-2", refs), headers=ops | CAP_XML),
            EVENTS,
            200,
        )
        assert again["id"] == update["id"] == first["id"] and again["duplicate"]

        quake = await api.check(
            await http.post(f"{url}?countries=JP", json=usgs(clock.now(), 7.5), headers=ops),
            EVENTS,
            201,
        )
        assert quake["advisory_ids"] == [ids["jp_quake"]]
        assert quake["areas"][0]["radius_km"] == 169.7  # 30 km at M5, doubling per unit
        revised = usgs(clock.now(), 7.6)
        geo = ops | {"Content-Type": "application/geo+json"}
        dup = await api.check(await http.post(url, data=_json(revised), headers=geo), EVENTS, 200)
        assert dup["id"] == quake["id"]
        weak = await api.check(
            await http.post(url, json=usgs(clock.now(), 3.1) | {"id": "us-weak"}, headers=ops),
            EVENTS,
            202,
        )
        assert not weak["declared"] and weak["advisory_ids"] == []

        typhoon = {
            "hazard": "typhoon",
            "title": "Typhoon No. 7",
            "time": clock.now().isoformat(),
            "area": {"type": "regions", "codes": ["JP-27"]},
        }
        plain = await api.check(await http.post(url, json=typhoon, headers=ops), EVENTS, 201)
        assert plain["advisory_ids"] == [ids["jp_typhoon"]]

        declared = await eventually(lambda: _stream_at_least(settings, 3))
        assert [e["event_id"] for _, e in declared] == [first["id"], quake["id"], plain["id"]]
        assert all(subject == "disasters.declared" for subject, _ in declared)
        assert declared[0][1]["advisory_ids"] == [ids["jp_quake"]]
        # A USGS quake carries its magnitude, for the playbooks' min_magnitude; CAP has none.
        assert [e.get("magnitude") for _, e in declared] == [None, 7.5, None]

        # Operators see it all on the console; a browser signs in with Basic.
        basic = base64.b64encode(f"operator:{settings.operator_key}".encode()).decode()
        page = await http.get(f"{base}/console", headers={"Authorization": f"Basic {basic}"})
        text = await page.text()
        assert page.status == 200 and first["id"] in text and ids["embargoed"] in text
        for headers in ({}, {"Authorization": "Basic b3A6d3Jvbmc="}):
            refused = await http.get(f"{base}/console", headers=headers)
            assert refused.status == 401 and "Basic" in refused.headers["WWW-Authenticate"]
            assert ids["embargoed"] not in await refused.text()


async def test_events_refuse_bad_input_and_other_callers(
    settings: Settings, clock: Clock, http: aiohttp.ClientSession
) -> None:
    async with running(build, settings, clock, settings.advisory_port) as base:
        api = await contract(http, base)
        url, ops = f"{base}{EVENTS}", operator(settings)
        agency = await new_agency(settings, "FDMA")
        alert = cap_alert(clock.now(), "A-1")
        await api.check(await http.post(url, data=alert, headers=CAP_XML), EVENTS, 401)
        await api.check(await http.post(url, data=alert, headers=agency | CAP_XML), EVENTS, 403)
        for body, headers, status in [
            (BOMB, CAP_XML, 400),
            (b"<alert", CAP_XML, 400),
            (b"{nope", {"Content-Type": "application/json"}, 400),
            (b'{"hazard": "flood"}', {"Content-Type": "application/json"}, 400),
            (b"hazard=flood", {"Content-Type": "application/x-www-form-urlencoded"}, 415),
            (io.BytesIO(b"<x>" + b"a" * (1024 * 1024) + b"</x>"), CAP_XML, 413),
        ]:
            reply = await api.check(
                await http.post(url, data=body, headers=ops | headers), EVENTS, status
            )
            assert reply["error"] and all("field" in d for d in reply["details"])
        future = cap_alert(clock.now() + timedelta(days=1), "A-9")
        reply = await api.check(
            await http.post(url, data=future, headers=ops | CAP_XML), EVENTS, 400
        )
        assert reply["details"][0]["field"] == "time"
        assert await _count(settings, "disasters", 0)


def _json(value: Any) -> bytes:
    return json.dumps(value).encode()


async def _count(settings: Settings, where: str, expected: int) -> bool:
    conn = await asyncpg.connect(settings.database_url)
    try:
        return bool(await conn.fetchval(f"SELECT count(*) FROM advisory.{where}") == expected)
    finally:
        await conn.close()


async def _stream_at_least(settings: Settings, count: int) -> list[tuple[str, Any]]:
    found = await stream_messages(settings.nats_url, "DISASTERS")
    return found if len(found) >= count else []


async def test_the_cap_specifications_own_earthquake_a_point_is_accepted(
    settings: Settings, clock: Clock, http: aiohttp.ClientSession
) -> None:
    # OASIS CAP 1.2, Appendix A.3, as published: its area is `<circle>32.9525,-115.5527 0`.
    example = (FIXTURES / "oasis-cap-1.2-a3-earthquake.xml").read_bytes()
    point = {"type": "circle", "lat": 32.9525, "lon": -115.5527, "radius_km": 1.0}
    async with running(build, settings, clock, settings.advisory_port) as base:
        api = await contract(http, base)
        agency = await new_agency(settings, "Cal OES")
        playbook = disaster_playbook(clock.now() + timedelta(minutes=1), countries=["US"])
        created = await http.post(f"{base}/v1/advisories", json=playbook, headers=agency)
        advisory_id = (await created.json())["id"]
        clock.advance(timedelta(minutes=2))
        await eventually(lambda: _count(settings, "advisories WHERE state = 'published'", 1))
        url, ops = f"{base}{EVENTS}?countries=US", operator(settings)

        # As published, in 2003: read, a point, and history by now.
        old = await api.check(
            await http.post(url, data=example, headers=ops | CAP_XML), EVENTS, 202
        )
        assert old["areas"] == [point] and old["hazard"] == "earthquake"
        assert not old["declared"] and old["reason"] == "the event is older than 7 days"

        # The same report sent today declares a disaster at that point.
        sent = clock.now().replace(microsecond=0).isoformat().encode()
        today = example.replace(b"2003-06-11T20:56:00-07:00", sent)
        new = await api.check(await http.post(url, data=today, headers=ops | CAP_XML), EVENTS, 201)
        assert new["areas"] == [point] and new["advisory_ids"] == [advisory_id]
        declared = await eventually(lambda: _stream_at_least(settings, 1))
    assert declared[0][1]["areas"] == [point]
