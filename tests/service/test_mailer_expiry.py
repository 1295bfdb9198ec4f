"""A routine mail held back by the cap or quiet hours is not sent after its advisory expires,
and the reach counts it as expired."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import msgspec

from services.mailer.app import build
from shared import messages as m
from shared.bus import Subjects
from shared.clock import Clock
from shared.config import Settings
from tests.support.fixtures import running
from tests.support.mailer import (
    advisory,
    customers,
    deliveries,
    nats,
    set_time,
    wait_states,
)
from tests.support.smtp import SmtpSink


async def _reach(nc: object, advisory_id: str) -> dict[str, int]:
    question = m.encode(m.ReportRequest(advisory_id=advisory_id))
    reply = await nc.request(Subjects.MAILER_REPORT, question, timeout=5)  # type: ignore[attr-defined]
    return msgspec.json.decode(reply.data, type=m.ReachReport).counts


async def test_mail_held_by_the_cap_expires_with_its_advisory(
    settings: Settings, clock: Clock, smtp_sink: SmtpSink
) -> None:
    settings = msgspec.structs.replace(settings, routine_cap=1, cap_period_days=7)
    async with running(build, settings, clock, settings.mailer_port), nats(settings.nats_url) as nc:
        await customers(nc, ("c-1", "one@example.jp", "en", "UTC"))
        await advisory(nc, "first")
        await deliveries(nc, "first", ["c-1"])
        await smtp_sink.wait_for(1)
        # The week's one routine mail is spent: this one waits for the cap, a week, and its
        # advisory ends in three days.
        await advisory(nc, "brief", expires_at=clock.now() + timedelta(days=3))
        await deliveries(nc, "brief", ["c-1"])
        await wait_states(settings.database_url, {"deferred": 1}, "brief")
        clock.advance(timedelta(days=7, minutes=1))
        await wait_states(settings.database_url, {"expired": 1}, "brief")
        await asyncio.sleep(1.0)
        assert len(smtp_sink.messages) == 1
        assert await _reach(nc, "brief") == {"expired": 1}


async def test_mail_waiting_out_quiet_hours_expires_with_its_advisory(
    settings: Settings, clock: Clock, smtp_sink: SmtpSink
) -> None:
    settings = msgspec.structs.replace(settings, quiet_hours="21-08")
    # 22:00 in Tokyo: quiet until 08:00; the advisory ends at midnight.
    set_time(clock, datetime(2026, 3, 2, 13, 0, tzinfo=UTC))
    async with running(build, settings, clock, settings.mailer_port), nats(settings.nats_url) as nc:
        await customers(nc, ("c-1", "one@example.jp", "ja", "Asia/Tokyo"))
        await advisory(nc, "tonight", expires_at=datetime(2026, 3, 2, 15, 0, tzinfo=UTC))
        await deliveries(nc, "tonight", ["c-1"])
        await wait_states(settings.database_url, {"deferred": 1}, "tonight")
        set_time(clock, datetime(2026, 3, 2, 23, 1, tzinfo=UTC))  # 08:01 in Tokyo
        await wait_states(settings.database_url, {"expired": 1}, "tonight")
        await asyncio.sleep(1.0)
        assert smtp_sink.messages == []
        assert await _reach(nc, "tonight") == {"expired": 1}
