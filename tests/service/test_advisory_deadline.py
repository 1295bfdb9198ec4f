"""An advisory's deliver_by: the report says whether the send rates meet it, and if not,
the rates that would (before publication from the matcher's estimate, after from the
mailer's ledger, per recipient domain as well as overall)."""

from __future__ import annotations

import base64
import re
from datetime import datetime, timedelta
from typing import Any

import aiohttp
import msgspec
import pytest

from services.advisory.app import build
from shared import messages as m
from shared.clock import Clock
from shared.config import Settings
from tests.support.advisory import Answer, Contract, contract, eventually, new_agency, responder
from tests.support.fixtures import running
from tests.support.shop import power_bank_advisory

ONE = "/v1/advisories/{advisory_id}"


async def test_the_report_says_whether_deliver_by_is_met_and_the_rate_that_would_meet_it(
    settings: Settings, clock: Clock, http: aiohttp.ClientSession
) -> None:
    settings = msgspec.structs.replace(
        settings, send_rate_per_second=100, send_rate_per_domain=10, deadline_watch_s=0.1
    )
    embargo_until = (clock.now() + timedelta(hours=1)).replace(microsecond=0)
    deliver_by = embargo_until + timedelta(hours=2)
    advisory = power_bank_advisory(embargo_until) | {"deliver_by": deliver_by.isoformat()}
    async with running(build, settings, clock, settings.advisory_port) as base:
        api = await contract(http, base)
        mine = await new_agency(settings, "Consumer Safety Institute")
        early = power_bank_advisory(embargo_until) | {"deliver_by": embargo_until.isoformat()}
        refused = await api.check(
            await http.post(f"{base}/v1/advisories", json=early, headers=mine),
            "/v1/advisories",
            400,
        )
        assert refused["details"] == [
            {"field": "deliver_by", "problem": "must be after embargo_until"}
        ]
        created = await (
            await http.post(f"{base}/v1/advisories", json=advisory, headers=mine)
        ).json()
        url = f"{base}/v1/advisories/{created['id']}"
        shown = await api.check(await http.get(url, headers=mine), ONE, 200)
        assert datetime.fromisoformat(shown["deliver_by"]) == deliver_by

        async def estimate(data: bytes) -> bytes:
            return m.encode(m.AudienceEstimate(customers=1_000_000))

        # Before publication: a million customers at 100 a second take 10,000 s from the
        # embargo's end, longer than the two hours allowed; 138.89 a second would do.
        async with responder(settings.nats_url, "matcher.audience", estimate):
            before = await _report(api, http, url, mine)
        assert before["estimate"] is True and before["met"] is False
        assert before["waiting"] == 1_000_000
        assert _at(before["projected_finish"]) == embargo_until + timedelta(seconds=10_000)
        assert before["needed_rate_per_second"] == 138.89
        assert before["needed_rate_per_domain"] == 0.0
        assert "will be missed" in before["says"] and "138.89 per second overall" in before["says"]

        clock.advance(timedelta(hours=1, seconds=1))
        await eventually(lambda: _published(http, url, mine))

        def ledger(queued: int, by_domain: dict[str, int]) -> Answer:
            async def reach(data: bytes) -> bytes:
                question = msgspec.json.decode(data, type=m.ReportRequest)
                report = m.ReachReport(
                    advisory_id=question.advisory_id,
                    counts={"queued": queued},
                    waiting_by_domain=by_domain,
                )
                return m.encode(report)

            return reach

        # 3,000 waiting, 2,500 of them at one domain: 250 s at 10 a second there, well in time.
        spread = ledger(3_000, {"docomo.ne.jp": 2_500, "example.com": 500})
        async with responder(settings.nats_url, "mailer.report", spread):
            now = clock.now()
            met = await _report(api, http, url, mine)
            await eventually(lambda: _gauge(http, base, 0.0))
        assert met["estimate"] is False and met["met"] is True and met["waiting"] == 3_000
        finish = _at(met["projected_finish"]) - now
        assert timedelta(seconds=249) < finish < timedelta(seconds=260)
        assert met["slowest_domain"] == "docomo.ne.jp"
        assert met["needed_rate_per_second"] is None and met["needed_rate_per_domain"] is None

        # 90,000 at one domain take 9,000 s at 10 a second, past deliver_by (~7,199 s away);
        # the overall rate (100,000 in 1,000 s) is not what makes it late.
        late = ledger(100_000, {"docomo.ne.jp": 90_000, "example.com": 10_000})
        async with responder(settings.nats_url, "mailer.report", late):
            now = clock.now()
            missed = await _report(api, http, url, mine)
            console = f"{base}/console/advisories/{created['id']}"
            reply = await http.get(console, headers=_operator(settings))
            html = await reply.text()
            # The deadline watch counts it for the alert (AnshinAdvisoryDeadlineMissed).
            await eventually(lambda: _gauge(http, base, 1.0))
        left = (deliver_by - now).total_seconds()
        assert missed["met"] is False and missed["slowest_domain"] == "docomo.ne.jp"
        assert missed["needed_rate_per_second"] == 0.0
        assert missed["needed_rate_per_domain"] == pytest.approx(90_000 / left, abs=0.02)
        assert "per second per domain (docomo.ne.jp)" in missed["says"]
        # The console's page of the advisory shows the same while it sends.
        assert reply.status == 200, html
        assert "Projected finish" in html and "deliver_by will be missed" in html
        assert re.search(r"needs 12\.5\d? per second to docomo\.ne\.jp", html), html


async def _gauge(http: aiohttp.ClientSession, base: str, value: float) -> bool:
    text = await (await http.get(f"{base}/metrics")).text()
    return f"anshin_advisories_missing_deadline {value}" in text


def _operator(settings: Settings) -> dict[str, str]:
    token = base64.b64encode(f"operator:{settings.operator_key}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


async def _report(
    api: Contract, http: aiohttp.ClientSession, url: str, headers: dict[str, str]
) -> dict[str, Any]:
    report = await api.check(await http.get(f"{url}/report", headers=headers), ONE + "/report", 200)
    deadline: dict[str, Any] = report["deadline"]
    return deadline


def _at(text: object) -> datetime:
    return datetime.fromisoformat(str(text))


async def _published(http: aiohttp.ClientSession, url: str, headers: dict[str, str]) -> bool:
    return bool((await (await http.get(url, headers=headers)).json())["state"] == "published")
