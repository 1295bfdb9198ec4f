"""Revisions and cancellations of a declared disaster through matcher and mailer, in-process,
against real NATS, PostgreSQL and SMTP: what reaches the mailbox, and what stops."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta

import msgspec

from shared import messages as m
from shared.clock import Clock
from shared.config import Settings
from tests.service.test_matcher_kit import placed, published, shop, small
from tests.support.fixtures import run_services
from tests.support.mailer import customers, wait_states
from tests.support.smtp import SmtpSink

DAY = timedelta(days=1)
GEN = ["portable_generator"]


def at(code: str) -> m.Location:
    """A Japanese ship-to known by its municipality."""
    return m.Location(country="JP", area_code=code)


def noto(levels: dict[str, str], clock: Clock, **more: object) -> m.DisasterDeclared:
    """JMA's quake as the advisory service declares it, by municipality."""
    event = m.DisasterDeclared(
        event_id="dis_noto",
        hazard="earthquake",
        title="Noto",
        occurred_at=clock.now(),
        areas=[],
        countries=["JP"],
        advisory_ids=["adv-gen"],
        places=[m.Codes(scheme="jis", levels=levels)],
    )
    return msgspec.structs.replace(event, **more)


async def test_a_revision_with_a_larger_area_mails_only_the_customers_newly_inside(
    settings: Settings, clock: Clock, smtp_sink: SmtpSink
) -> None:
    settings = small(settings)
    now = clock.now()
    rule = m.Disaster(categories=GEN, hazards=["earthquake"], countries=["JP"])
    async with contextlib.AsyncExitStack() as stack:
        await run_services(stack, settings, clock, "matcher", "mailer")
        s = await stack.enter_async_context(shop(settings))
        await customers(
            s.nc,
            ("c-wajima", "hanako@example.jp", "ja-JP", "Asia/Tokyo"),
            ("c-suzu", "taro@example.jp", "ja-JP", "Asia/Tokyo"),
            ("c-nanao", "jiro@example.jp", "ja-JP", "Asia/Tokyo"),
        )
        await s.send(published("adv-gen", rule, now))
        for customer, code in (("c-wajima", "17204"), ("c-suzu", "17205"), ("c-nanao", "17202")):
            await s.send(placed(customer, now - 30 * DAY, GEN, where=at(code)))
        await s.idle(clock)

        await s.send(noto({"17204": "7", "17202": "4"}, clock))
        [first] = await smtp_sink.wait_for(1)
        assert first["To"].addresses[0].addr_spec == "hanako@example.jp"
        # JMA's next serial: Suzu reported, Nanao at 5+. The whole new area, revision 2.
        revised = {"17204": "7", "17205": "6+", "17202": "5+"}
        await s.send(noto(revised, clock, revision=2))
        await smtp_sink.wait_for(3)
        # Revision 3 repeats the area with a new title: nobody is newly inside.
        await s.send(noto(revised, clock, revision=3, title="Noto (corrected)"))
        await s.idle(clock)
        await wait_states(settings.database_url, {"sent": 3})
        await asyncio.sleep(1.5)
        requested = [r.customer_id for b in await s.batches() for r in b.recipients]
    # Each customer requested once: the first report, then those the revision took in.
    assert requested[0] == "c-wajima"
    assert sorted(requested) == ["c-nanao", "c-suzu", "c-wajima"]
    mailed = sorted(msg["To"].addresses[0].addr_spec for msg in smtp_sink.messages)
    assert mailed == ["hanako@example.jp", "jiro@example.jp", "taro@example.jp"]


async def test_a_cancellation_cancels_the_mail_still_waiting_because_of_it(
    settings: Settings, clock: Clock, smtp_sink: SmtpSink
) -> None:
    settings = small(settings)
    now = clock.now()
    rule = m.Disaster(categories=GEN, hazards=["earthquake", "tsunami"], countries=["JP"])
    async with contextlib.AsyncExitStack() as stack:
        await run_services(stack, settings, clock, "matcher", "mailer")
        s = await stack.enter_async_context(shop(settings))
        # Suzu's buyer has no contact data at the mailer yet: their mail waits.
        await customers(s.nc, ("c-wajima", "hanako@example.jp", "ja-JP", "Asia/Tokyo"))
        await s.send(published("adv-gen", rule, now))
        for customer, code in (("c-wajima", "17204"), ("c-suzu", "17205"), ("c-nanao", "17202")):
            await s.send(placed(customer, now - 30 * DAY, GEN, where=at(code)))
        await s.idle(clock)
        await s.send(noto({"17204": "7", "17205": "6+"}, clock))
        # Another disaster's mail to the same customer (the tsunami after the quake) waits
        # too, and is not this one's.
        tsunami = noto({"17204": "6-", "17205": "6-"}, clock, event_id="dis_other")
        await s.send(msgspec.structs.replace(tsunami, hazard="tsunami"))
        await smtp_sink.wait_for(2)
        await s.idle(clock)
        await wait_states(settings.database_url, {"sent": 2, "queued": 2})

        await s.send(noto({}, clock, revision=3, cancelled=True))
        await wait_states(settings.database_url, {"sent": 2, "queued": 1, "cancelled": 1})
        # A revision arriving after the cancellation, with Nanao inside: nothing starts.
        await s.send(noto({"17204": "7", "17202": "6-"}, clock, revision=2))
        await s.idle(clock)
        # The contact arrives: only the other disaster's mail goes out.
        await customers(s.nc, ("c-suzu", "taro@example.jp", "ja-JP", "Asia/Tokyo"))
        await smtp_sink.wait_for(3)
        await wait_states(settings.database_url, {"sent": 3, "cancelled": 1})
        await asyncio.sleep(1.5)
        requested = [(b.event_id, r.customer_id) for b in await s.batches() for r in b.recipients]
    assert sorted(requested) == [
        ("dis_noto", "c-suzu"),
        ("dis_noto", "c-wajima"),
        ("dis_other", "c-suzu"),
        ("dis_other", "c-wajima"),
    ]
    assert len(smtp_sink.messages) == 3
