"""The effectiveness funnel through all four services: customers buy, are mailed, one
unsubscribes, two open the safety page through their mail and one answers; the API, the CLI,
the console and the portal count each step and explain it."""

from __future__ import annotations

import contextlib
import re
from datetime import timedelta
from pathlib import Path

import aiohttp
import msgspec

from shared.clock import Clock
from shared.config import Settings
from tests.service.test_cli import anshin, cli_env
from tests.service.test_console import basic, page
from tests.service.test_console_portal import sign_in
from tests.support.advisory import new_agency
from tests.support.fixtures import run_services
from tests.support.keys import channel_header
from tests.support.mailer import eventually
from tests.support.parts import part_text
from tests.support.shop import expect, order, power_bank_shop
from tests.support.smtp import SmtpSink

BUYERS = [("c-1", "hanako@example.jp", "ja-JP"), ("c-2", "jane@example.com", "en-GB")]
LEAVER = ("c-3", "pierre@example.fr", "fr-FR")


def _links(text: str, base: str, path: str) -> list[str]:
    return re.findall(re.escape(base) + "/" + path + r"/[A-Za-z0-9_.=-]+", text)


def _mails(sink: SmtpSink, advisory_id: str) -> dict[str, str]:
    return {
        str(mail["To"].addresses[0].addr_spec): part_text(mail, "plain")
        for mail in sink.messages
        if mail["X-Anshin-Advisory"] == advisory_id
    }


async def test_the_funnel_counts_buyers_to_answers_everywhere_it_is_shown(
    settings: Settings,
    clock: Clock,
    smtp_sink: SmtpSink,
    http: aiohttp.ClientSession,
    tmp_path: Path,
) -> None:
    mailer = f"http://127.0.0.1:{settings.mailer_port}"
    settings = msgspec.structs.replace(settings, mailer_public_url=mailer)
    async with contextlib.AsyncExitStack() as stack:
        urls = await run_services(stack, settings, clock, "ingest", "advisory", "matcher", "mailer")
        ingest, advisory = urls["ingest"], urls["advisory"]
        mine = await new_agency(settings, "製品安全研究所")
        shop = await channel_header(settings, "shop-catalog", catalog=True)
        web = await channel_header(settings, "web")
        first, second = await power_bank_shop(http, urls, mine, shop, clock.now())
        for i, (customer, email, locale) in enumerate([*BUYERS, LEAVER]):
            bought = order(f"A-{i}", clock.now(), customer=customer, locale=locale, email=email)
            await expect(await http.post(f"{ingest}/v1/orders", json=bought, headers=web), 202)

        # The first advice reaches all three; Pierre unsubscribes through its one-click link.
        clock.advance(timedelta(hours=1, seconds=1))
        await smtp_sink.wait_for(3)
        (unsubscribe,) = _links(_mails(smtp_sink, first["id"])[LEAVER[1]], mailer, "u")
        assert (await http.post(unsubscribe)).status == 200

        # The second reaches the two others; both open its safety page, Hanako answers.
        clock.advance(timedelta(hours=1))
        await smtp_sink.wait_for(5)
        mails = _mails(smtp_sink, second["id"])
        assert mails.keys() == {BUYERS[0][1], BUYERS[1][1]}
        for text in mails.values():
            (read,) = _links(text, mailer, "r")
            for _ in range(2):  # the second visit counts nothing more
                seen = await http.get(read, allow_redirects=False)
                assert seen.status == 303
                assert seen.headers["Location"].startswith(f"{settings.public_url}/safety/")
        checked, _ = _links(mails[BUYERS[0][1]], mailer, "a")
        assert (await http.post(checked)).status == 200

        url = f"{advisory}/v1/advisories/{second['id']}/report"

        async def funnel() -> dict[str, object]:
            found: dict[str, object] = (await expect(await http.get(url, headers=mine), 200))[
                "funnel"
            ]
            return found

        expected = {"bought": 3, "contactable": 2, "delivered": 2, "read": 2, "acted": 1}

        last: dict[str, int] = {}

        async def counted() -> bool:
            steps = (await funnel())["steps"]
            assert isinstance(steps, list)
            last.clear()
            last.update({s["step"]: s["customers"] for s in steps})
            return last == expected

        try:
            await eventually(counted)
        except TimeoutError:
            raise AssertionError(f"the funnel never counted {expected}: last {last}") from None
        report = await funnel()
        assert report["checked"] == 1 and report["gone"] == 0
        assert report["contactable_share"] == 0.6667 and report["meets_mark"] is False
        assert report["says"] == (
            "66.7 % of the buyers can be contacted, below the 95.0 % that the US CPSC asks a"
            " firm to reach."
        )
        steps = report["steps"]
        assert isinstance(steps, list)
        assert "e-mail address" in steps[1]["means"] and "bounce" in steps[2]["means"]

        # The CLI prints the same steps and the verdict.
        printed = await anshin(cli_env(settings, tmp_path), "advisory", "report", second["id"])
        assert printed.code == 0, printed.err
        for step, n in expected.items():
            assert re.search(rf"^{step}\s+{n}\s", printed.out, re.M), printed.out
        assert "below the 95.0 %" in printed.out and "1 checked their product" in printed.out

        # The console and the agency's portal show the funnel with the verdict.
        console = await page(http, f"{advisory}/console/advisories/{second['id']}", basic(settings))
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as browser:
            key = mine["Authorization"].split()[1]
            assert (await sign_in(browser, advisory, key)).status == 303
            portal = await page(browser, f"{advisory}/portal/advisories/{second['id']}", {})
        for html in (console, portal):
            for step, n in expected.items():
                row = rf'data-step="{step}"><th scope="row">\w+</th>'
                assert re.search(rf"{row}<td class=\"n\" data-customers>{n}<", html), step
            assert 'data-mark="missed"' in html and "66.7 % of the buyers" in html
