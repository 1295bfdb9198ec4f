"""A disaster's audience through advisory, matcher and mailer, in-process against real NATS,
PostgreSQL and SMTP: the report counts the customers an aftershock held back, and a dry run
counts each playbook's customers by area and sends nothing."""

from __future__ import annotations

import contextlib
from datetime import datetime, timedelta
from typing import Any

import aiohttp

from shared import messages as m
from shared.clock import Clock
from shared.config import Settings
from tests.service.test_matcher_kit import placed, shop, small
from tests.support.advisory import contract, disaster_playbook, eventually, new_agency, operator
from tests.support.fixtures import run_services
from tests.support.mailer import customers
from tests.support.smtp import SmtpSink

GEN = ["portable_generator"]
REPORT = "/v1/advisories/{advisory_id}/report"


def quake(event_id: str, at: datetime, levels: dict[str, str]) -> dict[str, Any]:
    """An earthquake in plain JSON, by municipality."""
    places = [{"type": "codes", "scheme": "jis", "levels": levels}]
    return {"id": event_id, "hazard": "earthquake", "title": event_id, "time": at.isoformat(),
            "places": places}  # fmt: skip


async def test_the_report_counts_the_customers_an_aftershock_held_back(
    settings: Settings, clock: Clock, http: aiohttp.ClientSession, smtp_sink: SmtpSink
) -> None:
    settings = small(settings)
    now = clock.now()
    async with contextlib.AsyncExitStack() as stack:
        urls = await run_services(stack, settings, clock, "advisory", "matcher", "mailer")
        base, ops = urls["advisory"], operator(settings)
        api = await contract(http, base)
        s = await stack.enter_async_context(shop(settings))
        await customers(
            s.nc,
            ("c-wajima", "hanako@example.jp", "ja-JP", "Asia/Tokyo"),
            ("c-nanao", "taro@example.jp", "ja-JP", "Asia/Tokyo"),
        )
        for customer, code in (("c-wajima", "17204"), ("c-nanao", "17202")):
            where = m.Location(country="JP", area_code=code)
            await s.send(placed(customer, now - timedelta(days=9), GEN, where=where))
        agency = await new_agency(settings, "FDMA")
        body = disaster_playbook(now + timedelta(minutes=1), categories=GEN)
        created = await (await http.post(f"{base}/v1/advisories", json=body, headers=agency)).json()
        clock.advance(timedelta(minutes=2))
        url = f"{base}/v1/advisories/{created['id']}"

        async def published() -> bool:
            answer = await (await http.get(url, headers=agency)).json()
            return bool(answer["state"] == "published")

        await eventually(published)
        await s.idle(clock)

        main = quake("main", clock.now(), {"17204": "6+"})
        declared = await (await http.post(f"{base}/v1/events", json=main, headers=ops)).json()
        assert declared["advisory_ids"] == [created["id"]]
        await smtp_sink.wait_for(1)
        clock.advance(timedelta(hours=2))
        after = quake("after", clock.now(), {"17204": "6-", "17202": "5+"})
        aftershock = await (await http.post(f"{base}/v1/events", json=after, headers=ops)).json()
        await smtp_sink.wait_for(2)
        await s.idle(clock)

        report = await api.check(await http.get(f"{url}/report", headers=agency), REPORT, 200)
    assert report["folded"] == 1
    assert report["folded_by_disaster"] == {aftershock["id"]: 1}
    assert report["counts"]["sent"] == 2
    mailed = sorted(str(mail["To"].addresses[0].addr_spec) for mail in smtp_sink.messages)
    assert mailed == ["hanako@example.jp", "taro@example.jp"]


async def test_a_dry_run_counts_each_playbook_by_area_and_sends_nothing(
    settings: Settings, clock: Clock, http: aiohttp.ClientSession
) -> None:
    settings = small(settings)
    now = clock.now()
    async with contextlib.AsyncExitStack() as stack:
        urls = await run_services(stack, settings, clock, "advisory", "matcher")
        base, ops = urls["advisory"], operator(settings)
        api = await contract(http, base)
        s = await stack.enter_async_context(shop(settings))
        kanazawa = m.Location(country="JP", area_code=None, lat=36.56, lon=136.65)
        for customer, code, days in (
            ("drill-wajima", "17204", 30),
            ("drill-wajima-2", "17204", 40),
            ("drill-suzu", "17205", 30),
            ("drill-nanao", "17202", 30),  # at 4: below both playbooks' condition
            ("drill-late", "17204", 1),  # bought after the quake
        ):
            where = m.Location(country="JP", area_code=code)
            await s.send(placed(customer, now - timedelta(days=days), GEN, where=where))
        await s.send(placed("drill-kanazawa", now - timedelta(days=30), GEN, where=kanazawa))
        agency = await new_agency(settings, "FDMA")
        ids = []
        for changes in ({}, {"min_intensity": "6+"}):
            body = disaster_playbook(now + timedelta(minutes=1), categories=GEN, **changes)
            reply = await http.post(f"{base}/v1/advisories", json=body, headers=agency)
            ids.append((await reply.json())["id"])
        clock.advance(timedelta(minutes=2))

        async def published() -> bool:
            answers = [await (await http.get(f"{base}/v1/advisories/{i}", headers=agency)).json()
                       for i in ids]  # fmt: skip
            return all(a["state"] == "published" for a in answers)

        await eventually(published)
        await s.idle(clock)

        # Noto, ten days ago: history, which only a dry run may replay.
        event = quake("noto", now - timedelta(days=10), {"17204": "7", "17205": "6-", "17202": "4"})
        kanazawa_box = [[36.4, 136.4], [36.8, 136.4], [36.8, 136.9], [36.4, 136.9]]
        event["areas"] = [{"type": "polygon", "points": kanazawa_box}]
        url = f"{base}/v1/events"
        drill = await api.check(
            await http.post(f"{url}?dry_run=true", json=event, headers=ops), "/v1/events", 200
        )
        assert drill["dry_run"] and not drill["declared"] and drill["id"] == ""
        # Both published at once: in either order.
        assert sorted(drill["advisory_ids"]) == sorted(ids)
        by_playbook = {a.pop("advisory_id"): a for a in drill["audience"]}
        assert by_playbook == {
            ids[0]: {"customers": 4, "known": True,
                     "by_area": {"areas[0]": 1, "jis:17204": 2, "jis:17205": 1}},
            ids[1]: {"customers": 3, "known": True, "by_area": {"areas[0]": 1, "jis:17204": 2}},
        }  # fmt: skip
        refused = await http.post(f"{url}?dry_run=maybe", json=event, headers=ops)
        assert refused.status == 400
        assert (await refused.json())["details"][0]["field"] == "dry_run"
        # Without dry_run the same history is not declared.
        stale = await api.check(await http.post(url, json=event, headers=ops), "/v1/events", 202)
        assert not stale["declared"]
        await s.idle(clock)
        assert await s.batches() == []
        info = await s.nc.jetstream().stream_info("DISASTERS")
        assert info.state.messages == 0
