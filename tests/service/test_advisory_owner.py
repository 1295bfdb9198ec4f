"""Before publication the owner can preview the mail and ask for an audience estimate."""

from __future__ import annotations

import logging
from datetime import timedelta
from zoneinfo import ZoneInfo

import aiohttp
import msgspec
import pytest

from services.advisory.app import build
from shared import messages as m
from shared.clock import Clock
from shared.config import Settings
from tests.service.test_console import basic
from tests.support.advisory import contract, eventually, new_agency, responder
from tests.support.fixtures import running
from tests.support.shop import power_bank_advisory

ONE = "/v1/advisories/{advisory_id}"


async def test_preview_audience_and_report_for_the_owner(
    settings: Settings, clock: Clock, http: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    advisory = power_bank_advisory(clock.now() + timedelta(hours=1))
    async with running(build, settings, clock, settings.advisory_port) as base:
        api = await contract(http, base)
        mine = await new_agency(settings, "製品安全研究所")
        created = await (
            await http.post(f"{base}/v1/advisories", json=advisory, headers=mine)
        ).json()
        url = f"{base}/v1/advisories/{created['id']}"

        preview = await api.check(
            await http.get(f"{url}/preview?lang=ja", headers=mine), ONE + "/preview", 200
        )
        assert preview["subject"] == advisory["title"]["ja"]
        assert "製品安全研究所" in preview["text"] and advisory["body"]["ja"] in preview["text"]
        assert advisory["title"]["ja"] in preview["html"]
        english = await (await http.get(f"{url}/preview", headers=mine)).json()
        assert english["lang"] == "en" and english["subject"] == advisory["title"]["en"]
        bad = await api.check(
            await http.get(f"{url}/preview?lang=de", headers=mine), ONE + "/preview", 400
        )
        assert bad["details"][0]["field"] == "lang"

        # No matcher answers: a 503 that says so, not a 500 or a hang.
        down = await api.check(
            await http.get(f"{url}/audience", headers=mine), ONE + "/audience", 503
        )
        assert "matcher" in down["error"]

        async def estimate(data: bytes) -> bytes:
            question = msgspec.json.decode(data, type=m.AudienceRequest)
            return m.encode(
                m.AudienceEstimate(
                    customers=42 if question.rule.concerns().categories == ["power_bank"] else 0
                )
            )

        async with responder(settings.nats_url, "matcher.audience", estimate) as heard:
            answer = await api.check(
                await http.get(f"{url}/audience", headers=mine), ONE + "/audience", 200
            )
        assert answer == {"advisory_id": created["id"], "customers": 42}
        # The question carries who is concerned, never the embargoed words.
        assert advisory["title"]["en"].encode() not in heard[0]
        assert advisory["body"]["en"].encode() not in heard[0]

        # Before publication there is no reach to ask the mailer about.
        empty = await api.check(await http.get(f"{url}/report", headers=mine), ONE + "/report", 200)
        assert empty["counts"] == dict.fromkeys(
            ["matched", "sent", "waiting", "suppressed", "failed"], 0
        )

        clock.advance(timedelta(hours=1, seconds=1))
        await eventually(lambda: _published(http, url, mine))
        await api.check(await http.get(f"{url}/report", headers=mine), ONE + "/report", 503)

        # 08:00 in Tokyo, the end of the quiet hours the deferred delivery waits out.
        morning = (clock.now() + timedelta(hours=3)).replace(microsecond=0)

        async def reach(data: bytes) -> bytes:
            question = msgspec.json.decode(data, type=m.ReportRequest)
            return m.encode(
                m.ReachReport(
                    advisory_id=question.advisory_id,
                    # The mailer counts its ledger's own states.
                    counts={"sent": 2, "queued": 1, "deferred": 1, "cancelled": 1, "failed": 1},
                    by_day=[m.requests.DayCount(day="2026-11-22", counts={"sent": 2})],
                    waits=[
                        m.Wait(reason="quiet", until=morning, timezone="Asia/Tokyo", deliveries=1)
                    ],
                )
            )

        async with responder(settings.nats_url, "mailer.report", reach):
            report = await api.check(
                await http.get(f"{url}/report", headers=mine), ONE + "/report", 200
            )
            # The console words the wait in its reader's language.
            japanese = basic(settings) | {"Accept-Language": "ja"}
            console = f"{base}/console/advisories/{created['id']}"
            shown = await (await http.get(console, headers=japanese)).text()
        assert report["counts"] == {
            "matched": 6,
            "sent": 2,
            "waiting": 2,
            "suppressed": 1,
            "failed": 1,
        }
        day = {"matched": 2, "sent": 2, "waiting": 0, "suppressed": 0, "failed": 0}
        assert report["by_day"] == [{"day": "2026-11-22", "counts": day}]
        [why] = report["waiting"]
        local = morning.astimezone(ZoneInfo("Asia/Tokyo")).strftime("%H:%M")
        assert why["reason"] == "quiet" and why["timezone"] == "Asia/Tokyo"
        assert why["says"] == f"waiting: quiet hours until {local} Asia/Tokyo (1 delivery)"
        assert f"待機中：夜間の配信休止時間（Asia/Tokyo {local} まで、1 件）" in shown

    secrets = [*advisory["title"].values(), *advisory["body"].values()]
    for record in caplog.records:
        line = f"{record.getMessage()} {vars(record)}"
        assert not any(secret in line for secret in secrets), line


async def _published(http: aiohttp.ClientSession, url: str, headers: dict[str, str]) -> bool:
    return bool((await (await http.get(url, headers=headers)).json())["state"] == "published")
