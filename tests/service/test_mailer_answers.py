"""A mail's own links through the running mailer: the safety page's link counts one read, the
two answers count on POST only, forged links count nothing, and the funnel adds it all up."""

from __future__ import annotations

import re
from datetime import timedelta

import aiohttp
import asyncpg
import msgspec

from deploy.servers import free_port
from services.mailer.app import build
from shared.clock import Clock
from shared.config import Settings
from tests.service.test_mailer_bounces_smtp import fixture, paths, returned
from tests.support.fixtures import running
from tests.support.mailer import advisory, customers, deliveries, nats, reach_report, wait_states
from tests.support.parts import part_text
from tests.support.smtp import SmtpSink

READER = ("c-read", "hanako@example.jp", "ja-JP", "Asia/Tokyo")
ACTOR = ("c-act", "jane@example.com", "en", "UTC")
BOUNCED = ("c-bounce", "userx@example.jp", "en", "UTC")  # flufl-dsn_12: failed 5.1.1
OPTED_OUT = ("c-out", "pierre@example.fr", "fr-FR", "Europe/Paris")


def _mail_to(sink: SmtpSink, address: str, advisory_id: str) -> str:
    found = [
        mail
        for mail in sink.messages
        if mail["To"].addresses[0].addr_spec == address and mail["X-Anshin-Advisory"] == advisory_id
    ]
    assert len(found) == 1
    return part_text(found[0], "plain")


def _link(text: str, base: str, path: str) -> list[str]:
    return re.findall(re.escape(base) + "/" + path + r"/[A-Za-z0-9_.=-]+", text)


async def _rows(database_url: str) -> dict[str, tuple[object, object, object]]:
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch(
            "SELECT customer_id, read_at, acted, acted_at FROM mailer.deliveries"
            " WHERE advisory_id = 'adv-1'"
        )
    finally:
        await conn.close()
    return {r["customer_id"]: (r["read_at"], r["acted"], r["acted_at"]) for r in rows}


async def test_reads_and_answers_are_counted_once_and_make_the_funnel(
    settings: Settings, clock: Clock, smtp_sink: SmtpSink
) -> None:
    settings = msgspec.structs.replace(settings, bounce_smtp_port=free_port())
    base = f"http://127.0.0.1:{settings.mailer_port}"
    settings = msgspec.structs.replace(settings, mailer_public_url=base)
    async with (
        running(build, settings, clock, settings.mailer_port),
        nats(settings.nats_url) as nc,
        aiohttp.ClientSession() as http,
    ):
        await customers(nc, READER, ACTOR, BOUNCED, OPTED_OUT)
        # Pierre opts out through an earlier mail's one-click link.
        await advisory(nc, "adv-0")
        await deliveries(nc, "adv-0", ["c-out"])
        await wait_states(settings.database_url, {"sent": 1}, "adv-0")
        unsubscribe = _link(_mail_to(smtp_sink, OPTED_OUT[1], "adv-0"), base, "u")[0]
        assert (await http.post(unsubscribe)).status == 200

        await advisory(nc, "adv-1")
        # c-none bought too, but ingest never gave the mailer an address for them.
        await deliveries(nc, "adv-1", ["c-read", "c-act", "c-bounce", "c-out", "c-none"])
        await wait_states(settings.database_url, {"sent": 3, "suppressed": 1, "queued": 1}, "adv-1")

        # Hanako's mail: her own link to the safety page, and the two answers, in Japanese.
        text = _mail_to(smtp_sink, READER[1], "adv-1")
        assert "製品を確認しました" in text and "この製品はもう持っていません" in text
        (read,) = _link(text, base, "r")
        first = await http.get(read, allow_redirects=False)
        assert first.status == 303
        assert first.headers["Location"] == f"{settings.public_url}/safety/adv-1?lang=ja"
        read_at = (await _rows(settings.database_url))["c-read"][0]
        assert read_at is not None
        clock.advance(timedelta(minutes=5))
        assert (await http.get(read, allow_redirects=False)).status == 303
        assert (await _rows(settings.database_url))["c-read"][0] == read_at  # counted once

        # Jane's answers: GET only asks (scanners follow links), POST counts the first one.
        checked, gone = _link(_mail_to(smtp_sink, ACTOR[1], "adv-1"), base, "a")
        page = await http.get(checked)
        assert page.status == 200 and "I have checked your product" not in await page.text()
        assert '<form method="post">' in await page.text()
        assert (await _rows(settings.database_url))["c-act"][1:] == (None, None)
        done = await http.post(checked)
        assert done.status == 200 and 'data-answer="checked"' in await done.text()
        again = await http.post(gone)
        assert "already noted" in await again.text()
        _, acted, acted_at = (await _rows(settings.database_url))["c-act"]
        assert acted == "checked" and acted_at is not None

        # A forged or misused link counts nothing.
        forged = checked[:-2] + ("AA" if not checked.endswith("AA") else "BB")
        assert (await http.post(forged)).status == 404
        assert (await http.get(read.replace("/r/", "/a/"))).status == 404
        assert (await http.get(checked.replace("/a/", "/r/"), allow_redirects=False)).status == 404
        # A reader whose mail program cut the link short is told so in their language.
        browser = {"Accept": "text/html,*/*;q=0.8", "Accept-Language": "ja,en;q=0.5"}
        for cut in (read[:-5], checked[:-5], checked.replace("/a/", "/u/")):
            page = await http.get(cut, headers=browser, allow_redirects=False)
            assert page.status == 404 and page.content_type == "text/html", cut
            assert "このリンクは使えません" in await page.text(), cut

        # The mail to userx comes back: accepted by the relay, then bounced.
        (bounce_path,) = paths(smtp_sink)[BOUNCED[1]]
        code, _ = await returned(
            settings.bounce_smtp_port, bounce_path, fixture("flufl-dsn_12.eml")
        )
        assert code == 250

        report = await reach_report(nc, "adv-1")
    assert report.funnel == {
        "bought": 5,
        "contactable": 3,
        "delivered": 2,
        "read": 1,
        "acted": 1,
        "acted_checked": 1,
        "acted_gone": 0,
    }


async def test_a_link_opened_before_the_relays_answer_is_recorded_counts(
    settings: Settings, clock: Clock, smtp_sink: SmtpSink
) -> None:
    """The relay took the mail, the customer opened it at once, and the recorder has not yet
    committed the answer with its group: the row is still `sending`, and the read counts."""
    base = f"http://127.0.0.1:{settings.mailer_port}"
    settings = msgspec.structs.replace(settings, mailer_public_url=base)
    async with (
        running(build, settings, clock, settings.mailer_port),
        nats(settings.nats_url) as nc,
        aiohttp.ClientSession() as http,
    ):
        await customers(nc, READER, ACTOR)
        await advisory(nc, "adv-1")
        await deliveries(nc, "adv-1", ["c-read", "c-act"])
        await wait_states(settings.database_url, {"sent": 2}, "adv-1")
        conn = await asyncpg.connect(settings.database_url)
        try:  # as the row stands between the relay's 250 and the recorder's commit
            await conn.execute("UPDATE mailer.deliveries SET state = 'sending'")
        finally:
            await conn.close()
        (read,) = _link(_mail_to(smtp_sink, READER[1], "adv-1"), base, "r")
        assert (await http.get(read, allow_redirects=False)).status == 303
        checked, _ = _link(_mail_to(smtp_sink, ACTOR[1], "adv-1"), base, "a")
        assert (await http.get(checked)).status == 200
        assert (await http.post(checked)).status == 200
        rows = await _rows(settings.database_url)
        assert rows["c-read"][0] is not None, "the read was not counted"
        assert rows["c-act"][1] == "checked"
