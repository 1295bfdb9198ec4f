"""Reports of one disaster over time on POST /v1/events: drills, revisions, late older
reports and cancellations, with JMA's published sample documents and CAP alerts."""

from __future__ import annotations

import asyncio
import base64
from datetime import UTC, datetime, timedelta
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

EVENTS = "/v1/events"
JMA = Path(__file__).parent.parent / "fixtures" / "jma"
XML = {"Content-Type": "application/xml"}
# The 2008 Iwate-Miyagi Nairiku earthquake as JMA reported it: Serials 1 to 3, then 取消.
IWATE = [JMA / f"32-35_06_0{n}_240613_VXSE53.xml" for n in (3, 4, 5)]
IWATE_CANCELLED = JMA / "32-35_06_06_100915_VXSE53.xml"
QUAKE_AT = datetime(2008, 6, 13, 23, 43, tzinfo=UTC)


async def _at(clock: Clock, when: datetime) -> None:
    clock.advance(when - clock.now())


async def _playbook(
    base: str, http: aiohttp.ClientSession, settings: Settings, clock: Clock
) -> str:
    agency = await new_agency(settings, "FDMA")
    body = disaster_playbook(clock.now() + timedelta(minutes=1))
    reply = await http.post(f"{base}/v1/advisories", json=body, headers=agency)
    advisory_id: str = (await reply.json())["id"]
    clock.advance(timedelta(minutes=2))
    await eventually(lambda: _count(settings, "advisories WHERE state = 'published'", 1))
    return advisory_id


async def _count(settings: Settings, where: str, expected: int) -> bool:
    conn = await asyncpg.connect(settings.database_url)
    try:
        return bool(await conn.fetchval(f"SELECT count(*) FROM advisory.{where}") == expected)
    finally:
        await conn.close()


async def _declared(settings: Settings, count: int) -> list[dict[str, Any]]:
    found = await stream_messages(settings.nats_url, "DISASTERS")
    assert all(subject == "disasters.declared" for subject, _ in found)
    return [message for _, message in found] if len(found) >= count else []


async def _settled(settings: Settings, count: int) -> list[dict[str, Any]]:
    """The stream once `count` messages are in, and no more a moment later."""
    found: list[dict[str, Any]] = await eventually(lambda: _declared(settings, count))
    await asyncio.sleep(0.5)  # what the outbox would still relay
    again = await _declared(settings, count)
    assert len(again) == len(found) == count, [m.get("revision") for m in again]
    return found


async def test_jma_reports_revise_a_quake_late_ones_change_nothing_and_a_cancellation_ends_it(
    settings: Settings, clock: Clock, http: aiohttp.ClientSession
) -> None:
    await _at(clock, QUAKE_AT - timedelta(minutes=10))
    async with running(build, settings, clock, settings.advisory_port) as base:
        api = await contract(http, base)
        playbook = await _playbook(base, http, settings, clock)
        await _at(clock, QUAKE_AT + timedelta(minutes=5))
        url, ops = f"{base}{EVENTS}", operator(settings) | XML

        first = await api.check(
            await http.post(url, data=IWATE[0].read_bytes(), headers=ops), EVENTS, 201
        )
        assert first["advisory_ids"] == [playbook] and first["countries"] == ["JP"]
        (places,) = first["places"]
        assert places["scheme"] == "jis" and places["levels"]["03215"] == "6+"
        assert places["levels"]["03381"] == "5-"  # 震度５弱以上未入電
        assert first["revision"] == 1 and not first["cancelled"] and first["areas"] == []
        (declared,) = await _settled(settings, 1)
        assert declared["event_id"] == first["id"] and declared["places"] == first["places"]

        # Serial 3 before Serial 2: the area grows, as a revision of the same disaster.
        await _at(clock, QUAKE_AT + timedelta(minutes=20))
        third = await api.check(
            await http.post(url, data=IWATE[2].read_bytes(), headers=ops), EVENTS, 200
        )
        assert third["id"] == first["id"] and third["revision"] == 2 and not third["duplicate"]
        grown = third["places"][0]["levels"]
        assert set(places["levels"]) < set(grown)
        revised = (await _settled(settings, 2))[1]
        assert revised["event_id"] == first["id"] and revised["revision"] == 2
        assert revised["places"] == third["places"] and revised["advisory_ids"] == [playbook]

        # Serial 2 arrives late, and Serial 1 again: older than Serial 3, they change nothing.
        for late in (IWATE[1], IWATE[0]):
            stale = await api.check(
                await http.post(url, data=late.read_bytes(), headers=ops), EVENTS, 200
            )
            assert stale["duplicate"] and stale["revision"] == 2 and "older" in stale["reason"]
            assert stale["places"][0]["levels"] == grown
        await _settled(settings, 2)

        # 取消: the disaster is cancelled, once; its feed saying so again changes nothing.
        cancelled = await api.check(
            await http.post(url, data=IWATE_CANCELLED.read_bytes(), headers=ops), EVENTS, 200
        )
        assert cancelled["cancelled"] and cancelled["revision"] == 3
        assert cancelled["id"] == first["id"]
        again = await api.check(
            await http.post(url, data=IWATE_CANCELLED.read_bytes(), headers=ops), EVENTS, 200
        )
        assert again["duplicate"] and again["cancelled"]
        last = (await _settled(settings, 3))[2]
        assert last["cancelled"] and last["revision"] == 3 and last["event_id"] == first["id"]
        assert await _count(settings, "disasters", 1)

        # The console says so.
        basic = base64.b64encode(f"operator:{settings.operator_key}".encode()).decode()
        page = await http.get(
            f"{base}/console/disasters/{first['id']}",
            headers={"Authorization": f"Basic {basic}"},
        )
        text = await page.text()
        assert page.status == 200 and "Cancelled" in text and "03215" in text


async def test_drills_tests_and_flashes_are_answered_202_and_declare_nothing(
    settings: Settings, clock: Clock, http: aiohttp.ClientSession
) -> None:
    drill_doc = JMA / "32-35_01_03_240613_VXSE53.xml"  # Control/Status 訓練
    await _at(clock, datetime(2009, 10, 1, 4, 40, tzinfo=UTC))
    async with running(build, settings, clock, settings.advisory_port) as base:
        api = await contract(http, base)
        await _playbook(base, http, settings, clock)
        await _at(clock, datetime(2009, 10, 1, 4, 55, tzinfo=UTC))
        url, ops = f"{base}{EVENTS}", operator(settings) | XML
        drill = await api.check(
            await http.post(url, data=drill_doc.read_bytes(), headers=ops), EVENTS, 202
        )
        assert not drill["declared"] and "訓練" in drill["reason"] and drill["id"] == ""
        test = drill_doc.read_bytes().replace("訓練".encode(), "試験".encode(), 1)
        tried = await api.check(await http.post(url, data=test, headers=ops), EVENTS, 202)
        assert not tried["declared"] and "試験" in tried["reason"]

        # A cancellation of what was never declared declares nothing either.
        await _at(clock, QUAKE_AT + timedelta(minutes=30))
        cancel = await api.check(
            await http.post(url, data=IWATE_CANCELLED.read_bytes(), headers=ops), EVENTS, 202
        )
        assert not cancel["declared"] and "cancels no disaster" in cancel["reason"]
        await _at(clock, datetime(2010, 1, 25, 7, 20, tzinfo=UTC))
        flash = (JMA / "32-35_04_02_100831_VXSE51.xml").read_bytes()
        heard = await api.check(await http.post(url, data=flash, headers=ops), EVENTS, 202)
        assert not heard["declared"] and "VXSE53" in heard["reason"]
        await asyncio.sleep(0.5)
        assert await _count(settings, "disasters", 0)
        assert await stream_messages(settings.nats_url, "DISASTERS") == []


def cap_alert(sent: datetime, identifier: str, kind: str, radius_km: int, refs: str = "") -> bytes:
    references = f"<references>{refs}</references>" if refs else ""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.1">
  <identifier>{identifier}</identifier><sender>ops@example.org</sender>
  <sent>{sent.isoformat()}</sent><status>Actual</status>
  <msgType>{kind}</msgType><scope>Public</scope>{references}
  <info><category>Geo</category><event>Earthquake</event><urgency>Immediate</urgency>
    <severity>Extreme</severity><certainty>Observed</certainty><headline>Quake</headline>
    <area><areaDesc>Noto</areaDesc><circle>37.5,137.27 {radius_km}</circle>
      <geocode><valueName>ISO 3166-2</valueName><value>JP-17</value></geocode></area>
  </info>
</alert>""".encode()


async def test_a_cap_update_with_a_larger_area_revises_and_a_cancel_cancels(
    settings: Settings, clock: Clock, http: aiohttp.ClientSession
) -> None:
    async with running(build, settings, clock, settings.advisory_port) as base:
        api = await contract(http, base)
        await _playbook(base, http, settings, clock)
        url, ops = f"{base}{EVENTS}", operator(settings) | XML
        sent = clock.now().replace(microsecond=0)
        ref = f"ops@example.org,A-1,{sent.isoformat()}"
        alert = cap_alert(sent, "A-1", "Alert", 20)
        first = await api.check(await http.post(url, data=alert, headers=ops), EVENTS, 201)
        later = sent + timedelta(minutes=5)
        update = cap_alert(later, "A-2", "Update", 80, ref)
        wider = await api.check(await http.post(url, data=update, headers=ops), EVENTS, 200)
        assert wider["id"] == first["id"] and wider["revision"] == 2
        assert wider["areas"][0]["radius_km"] == 80.0
        # An update sent before the one applied, arriving late, changes nothing.
        old = cap_alert(sent + timedelta(minutes=1), "A-3", "Update", 40, ref)
        stale = await api.check(await http.post(url, data=old, headers=ops), EVENTS, 200)
        assert stale["duplicate"] and stale["areas"][0]["radius_km"] == 80.0
        cancel = cap_alert(later + timedelta(minutes=5), "A-4", "Cancel", 80, ref)
        gone = await api.check(await http.post(url, data=cancel, headers=ops), EVENTS, 200)
        assert gone["cancelled"] and gone["revision"] == 3
        messages = await _settled(settings, 3)
        assert [m["revision"] for m in messages] == [1, 2, 3]
        assert [m["cancelled"] for m in messages] == [False, False, True]
        assert messages[1]["areas"][0]["radius_km"] == 80.0
