"""Aftershocks through advisory, matcher and mailer, in-process against real NATS, PostgreSQL
and SMTP: the playbook's report counts the customers an aftershock held back."""

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
