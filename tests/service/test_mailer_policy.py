"""Policy against real servers: the routine cap and its digest, quiet hours, priorities."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

import asyncpg
import msgspec
import pytest

from services.mailer.app import build
from shared import messages as m
from shared.clock import Clock
from shared.config import Settings
from shared.mail.render import digest_id, message_id
from shared.waiting import explain
from tests.support.fixtures import running
from tests.support.mailer import (
    advisory,
    customers,
    deliveries,
    nats,
    reach_report,
    set_time,
    wait_states,
)
from tests.support.parts import part_text
from tests.support.smtp import SmtpSink


async def _next_attempts(database_url: str) -> dict[str, tuple[str, datetime]]:
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch(
            "SELECT customer_id, hold, next_attempt_at FROM mailer.deliveries"
            " WHERE state = 'deferred'"
        )
    finally:
        await conn.close()
    return {r["customer_id"]: (r["hold"], r["next_attempt_at"]) for r in rows}


async def test_routine_mail_is_capped_and_the_excess_folded_into_a_digest(
    settings: Settings, clock: Clock, smtp_sink: SmtpSink
) -> None:
    settings = msgspec.structs.replace(settings, routine_cap=2, cap_period_days=7)
    routine = [
        ("r1", "short_term"),
        ("r2", "long_term"),
        ("r3", "combination"),
        ("r4", "short_term"),
    ]
    async with running(build, settings, clock, settings.mailer_port), nats(settings.nats_url) as nc:
        for advisory_id, kind in routine:
            await advisory(nc, advisory_id, kind)
            await deliveries(nc, advisory_id, ["c-1"], kind)
        await wait_states(settings.database_url, {"queued": 4})
        # The contact arrives last, so that one claim sees all four routine mails at once.
        await customers(nc, ("c-1", "one@example.jp", "en", "UTC"))
        await smtp_sink.wait_for(2)
        # Two pooled SMTP connections may hand the two mails over in either order.
        by_id = {mail["Message-ID"]: mail for mail in smtp_sink.messages}
        assert len(by_id) == 2
        single = by_id[message_id("r1", "c-1", "anshin.example")]
        digest = by_id[digest_id(["r2", "r3", "r4"], "c-1", "anshin.example")]
        assert "Advice r1" in part_text(single, "plain")
        assert digest["Subject"] == "3 safety messages about your purchases"
        text = part_text(digest, "plain")
        assert text.index("Advice r4") < text.index("Advice r3") < text.index("Advice r2")

        # The cap is reached: one more routine mail waits; a recall goes at once.
        await advisory(nc, "r5", "long_term")
        await deliveries(nc, "r5", ["c-1"], "long_term")
        await advisory(nc, "recall-1", "recall")
        await deliveries(nc, "recall-1", ["c-1"], "recall")
        await smtp_sink.wait_for(3)
        assert smtp_sink.messages[2]["Message-ID"] == message_id(
            "recall-1", "c-1", "anshin.example"
        )
        hold, until = (await _next_attempts(settings.database_url))["c-1"]
        assert hold == "cap"
        assert timedelta(days=7) - timedelta(minutes=1) < until - clock.now() <= timedelta(days=7)
        await asyncio.sleep(1.0)
        assert len(smtp_sink.messages) == 3

        clock.advance(timedelta(days=7, minutes=1))
        await smtp_sink.wait_for(4)
        assert smtp_sink.messages[3]["Message-ID"] == message_id("r5", "c-1", "anshin.example")
        await wait_states(settings.database_url, {"sent": 6})


async def test_routine_mail_waits_for_the_end_of_quiet_hours_in_each_time_zone(
    settings: Settings, clock: Clock, smtp_sink: SmtpSink
) -> None:
    settings = msgspec.structs.replace(settings, quiet_hours="21-08")
    # 12:30 UTC in January: 21:30 in Tokyo, 13:30 in Paris, 07:30 in New York.
    set_time(clock, datetime(2027, 1, 15, 12, 30, tzinfo=UTC))
    people = [
        ("c-tokyo", "tokyo@example.jp", "ja-JP", "Asia/Tokyo"),
        ("c-paris", "paris@example.fr", "fr-FR", "Europe/Paris"),
        ("c-ny", "ny@example.com", "en-US", "America/New_York"),
    ]
    async with running(build, settings, clock, settings.mailer_port), nats(settings.nats_url) as nc:
        await customers(nc, *people)
        await advisory(nc, "routine", "short_term")
        await advisory(nc, "quake", "disaster")
        await deliveries(nc, "routine", ["c-tokyo", "c-paris", "c-ny"])
        await deliveries(nc, "quake", ["c-tokyo"], "disaster")
        await smtp_sink.wait_for(2)
        got = {(m["To"].addresses[0].addr_spec, m["X-Anshin-Advisory"]) for m in smtp_sink.messages}
        assert got == {("paris@example.fr", "routine"), ("tokyo@example.jp", "quake")}
        await wait_states(settings.database_url, {"sent": 2, "deferred": 2})
        assert await _next_attempts(settings.database_url) == {
            "c-tokyo": ("quiet", datetime(2027, 1, 15, 23, 0, tzinfo=UTC)),  # 08:00 in Tokyo
            "c-ny": ("quiet", datetime(2027, 1, 15, 13, 0, tzinfo=UTC)),  # 08:00 in New York
        }
        set_time(clock, datetime(2027, 1, 15, 13, 0, 30, tzinfo=UTC))
        await smtp_sink.wait_for(3)
        assert smtp_sink.messages[2]["To"].addresses[0].addr_spec == "ny@example.com"
        await asyncio.sleep(1.0)
        assert len(smtp_sink.messages) == 3
        set_time(clock, datetime(2027, 1, 15, 23, 0, 30, tzinfo=UTC))
        await smtp_sink.wait_for(4)
        assert smtp_sink.messages[3]["To"].addresses[0].addr_spec == "tokyo@example.jp"


async def test_the_report_and_the_log_say_why_mail_waits_and_until_when(
    settings: Settings, clock: Clock, smtp_sink: SmtpSink, caplog: pytest.LogCaptureFixture
) -> None:
    settings = msgspec.structs.replace(settings, quiet_hours="21-08")
    # 14:30 UTC: 23:30 in Tokyo, where two customers sleep; 09:30 in New York.
    set_time(clock, datetime(2027, 1, 15, 14, 30, tzinfo=UTC))
    people = [
        ("c-1", "one@example.jp", "ja-JP", "Asia/Tokyo"),
        ("c-2", "two@example.jp", "ja-JP", "Asia/Tokyo"),
        ("c-ny", "ny@example.com", "en-US", "America/New_York"),
    ]
    caplog.set_level(logging.INFO, logger="services.mailer.claim")
    async with running(build, settings, clock, settings.mailer_port), nats(settings.nats_url) as nc:
        await customers(nc, *people)
        await advisory(nc, "routine", "short_term")
        await deliveries(nc, "routine", ["c-1", "c-2", "c-ny"])
        await smtp_sink.wait_for(1)
        await wait_states(settings.database_url, {"sent": 1, "deferred": 2})
        report = await reach_report(nc, "routine")
    tokyo_morning = datetime(2027, 1, 15, 23, 0, tzinfo=UTC)
    assert report.waits == [
        m.Wait(reason="quiet", until=tokyo_morning, timezone="Asia/Tokyo", deliveries=2)
    ]
    says = "waiting: quiet hours until 08:00 Asia/Tokyo (2 deliveries)"
    assert explain(report.waits[0], clock.now()) == says
    # What waits, by the domain whose rate it waits for (an advisory's deliver_by projection).
    assert report.waiting_by_domain == {"example.jp": 2}
    # Each claim logs what it held back: one claim, or two of one delivery each.
    logged = [msg for msg in caplog.messages if msg.startswith("waiting: quiet hours")]
    assert logged in (
        [says],
        ["waiting: quiet hours until 08:00 Asia/Tokyo (1 delivery)"] * 2,
    ), logged


async def test_disaster_goes_first_then_recall_then_routine_by_kind(
    settings: Settings, clock: Clock, smtp_sink: SmtpSink
) -> None:
    settings = msgspec.structs.replace(settings, routine_cap=0, smtp_connections=1)
    # Requested from the least to the most urgent, so that arrival order can only come
    # from the priorities.
    kinds = ["long_term", "combination", "short_term", "recall", "disaster"]
    async with running(build, settings, clock, settings.mailer_port), nats(settings.nats_url) as nc:
        for kind in kinds:
            await advisory(nc, kind, kind)
            await deliveries(nc, kind, ["c-1"], kind)
        await wait_states(settings.database_url, {"queued": 5})
        await customers(nc, ("c-1", "one@example.jp", "en", "UTC"))
        await smtp_sink.wait_for(5)
    assert [str(m["X-Anshin-Advisory"]) for m in smtp_sink.messages] == kinds[::-1]


async def test_the_cap_counts_one_address_across_the_customer_ids_that_share_it(
    settings: Settings, clock: Clock, smtp_sink: SmtpSink
) -> None:
    # A guest who checks out twice is two customer ids and one mailbox: the cap is the
    # mailbox's, or it would receive a cap's worth of mail under each id.
    settings = msgspec.structs.replace(settings, routine_cap=2, cap_period_days=7)
    async with running(build, settings, clock, settings.mailer_port), nats(settings.nats_url) as nc:
        for advisory_id in ("r1", "r2", "r3", "r4"):
            await advisory(nc, advisory_id, "short_term")
        await deliveries(nc, "r1", ["guest-1"])
        await deliveries(nc, "r2", ["guest-2"])
        await deliveries(nc, "r3", ["guest-2"])
        await wait_states(settings.database_url, {"queued": 3})
        await customers(
            nc,
            ("guest-1", "home@example.jp", "en", "UTC"),
            ("guest-2", "home@example.jp", "en", "UTC"),
        )
        await smtp_sink.wait_for(2)
        await wait_states(settings.database_url, {"sent": 3})
        assert {m["To"].addresses[0].addr_spec for m in smtp_sink.messages} == {"home@example.jp"}
        subjects = sorted(str(m["Subject"]) for m in smtp_sink.messages)
        assert subjects[0] == "2 safety messages about your purchases"
        assert subjects[1] in {"Advice r1", "Advice r2", "Advice r3"}

        # The cap of the address is spent: the next routine mail of either id waits a week.
        await deliveries(nc, "r4", ["guest-1"])
        await wait_states(settings.database_url, {"sent": 3, "deferred": 1})
        hold, until = (await _next_attempts(settings.database_url))["guest-1"]
        assert hold == "cap"
        assert timedelta(days=7) - timedelta(minutes=1) < until - clock.now() <= timedelta(days=7)
        await asyncio.sleep(1.0)
        assert len(smtp_sink.messages) == 2
