"""The mailer from batch to mailbox: ledger, rendering, withdrawal and the reach report."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import msgspec

from services.mailer.app import build
from shared import messages as m
from shared.bus import Subjects
from shared.clock import Clock
from shared.config import Settings
from shared.mail.render import message_id
from tests.support.fixtures import running
from tests.support.mailer import (
    advisory,
    customers,
    deliveries,
    nats,
    set_time,
    wait_states,
    withdraw,
)
from tests.support.parts import part_text
from tests.support.smtp import SmtpSink

PEOPLE = [
    ("c-ja", "hanako@example.jp", "ja-JP", "Asia/Tokyo"),
    ("c-fr", "jeanne@example.fr", "fr-FR", "Europe/Paris"),
    ("c-de", "max@example.de", "de-DE", "Europe/Berlin"),
]


async def _reach(nc: object, advisory_id: str) -> m.ReachReport:
    request = m.encode(m.ReportRequest(advisory_id=advisory_id))
    reply = await nc.request(Subjects.MAILER_REPORT, request, timeout=5)  # type: ignore[attr-defined]
    return msgspec.json.decode(reply.data, type=m.ReachReport)


async def test_a_batch_becomes_one_localized_mail_per_customer(
    settings: Settings, clock: Clock, smtp_sink: SmtpSink
) -> None:
    async with running(build, settings, clock, settings.mailer_port), nats(settings.nats_url) as nc:
        # c-guest is Hanako again, from a guest checkout: the same address.
        await customers(nc, *PEOPLE, ("c-guest", "hanako@example.jp", "ja-JP", "Asia/Tokyo"))
        await advisory(nc, "adv-1")
        await deliveries(nc, "adv-1", ["c-ja", "c-fr", "c-de", "c-ja"])
        mails = await smtp_sink.wait_for(3)
        # The same request again (another batch id) is stopped by the ledger's key, and
        # Hanako's second customer id by her address.
        await deliveries(nc, "adv-1", ["c-fr", "c-ja", "c-guest"])
        await wait_states(settings.database_url, {"sent": 3, "suppressed": 1}, "adv-1")
        await asyncio.sleep(1.0)
        assert len(smtp_sink.messages) == 3

        by_to = {mail["To"].addresses[0].addr_spec: mail for mail in mails}
        ja = by_to["hanako@example.jp"]
        assert ja["Subject"] == "お知らせ adv-1"
        assert by_to["jeanne@example.fr"]["Subject"] == "Conseil adv-1"
        assert by_to["max@example.de"]["Subject"] == "Advice adv-1"  # no German: English
        text = part_text(ja, "plain")
        html = part_text(ja, "html")
        unsubscribe = ja["List-Unsubscribe"].strip("<>")
        for part in (text, html):
            assert "Consumer Safety Institute" in part
            assert "充電中は目を離さないでください。" in part
            assert "Power bank" in part and "A-c-ja" in part
            # Her own signed link to the safety page, through the mailer (counted as read).
            assert f"{settings.mailer_public_url}/r/r." in part
            assert unsubscribe in part
            assert "最近この製品をご購入" in part  # why: a short-term advisory
        assert unsubscribe.startswith(f"{settings.mailer_public_url}/u/")
        assert ja["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert ja["List-Id"] == "Safety messages <safety.anshin.example>"
        assert ja["Message-ID"] == message_id("adv-1", "c-ja", "anshin.example")
        # Renders in common clients: tables and inline styles, nothing fetched from outside.
        assert "<table" in html and 'style="' in html
        for external in ("<img", "<link", "<script", "url(", "@import"):
            assert external not in html

        reach = await _reach(nc, "adv-1")
        today = datetime.now(UTC).strftime("%Y-%m-%d")
        assert reach.counts == {"sent": 3, "suppressed": 1}
        assert [(d.day, d.counts) for d in reach.by_day] == [(today, {"sent": 3, "suppressed": 1})]

        # Both of Hanako's ids in one batch: one mail goes out.
        await advisory(nc, "adv-1b")
        await deliveries(nc, "adv-1b", ["c-ja", "c-guest"])
        await wait_states(settings.database_url, {"sent": 1, "suppressed": 1}, "adv-1b")
        assert [str(m["X-Anshin-Advisory"]) for m in smtp_sink.messages[3:]] == ["adv-1b"]


async def test_withdrawal_cancels_what_still_waits(
    settings: Settings, clock: Clock, smtp_sink: SmtpSink
) -> None:
    settings = msgspec.structs.replace(settings, quiet_hours="21-08")
    # 22:30 in Tokyo: routine mail waits for the morning.
    set_time(clock, datetime(2027, 1, 15, 13, 30, tzinfo=UTC))
    async with running(build, settings, clock, settings.mailer_port), nats(settings.nats_url) as nc:
        await customers(nc, PEOPLE[0], ("c-ja2", "taro@example.jp", "ja-JP", "Asia/Tokyo"))
        await advisory(nc, "adv-2")
        await deliveries(nc, "adv-2", ["c-ja", "c-ja2"])
        await wait_states(settings.database_url, {"deferred": 2}, "adv-2")
        await withdraw(nc, "adv-2")
        await wait_states(settings.database_url, {"cancelled": 2}, "adv-2")
        # A batch that arrives after the withdrawal starts cancelled.
        await customers(nc, PEOPLE[1])
        await deliveries(nc, "adv-2", ["c-fr"])
        await wait_states(settings.database_url, {"cancelled": 3}, "adv-2")
        clock.advance(timedelta(hours=12))
        await asyncio.sleep(1.5)
        assert smtp_sink.rcpt_attempts == []
        reach = await _reach(nc, "adv-2")
        assert reach.counts == {"cancelled": 3}
