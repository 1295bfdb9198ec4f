"""A relay's refusal is not a customer's bounce: only a dead mailbox at RCPT suppresses; a path
that refuses everyone pauses, raises its alert and resumes; urgent mail keeps probing."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

import asyncpg
import msgspec
import pytest
from prometheus_client import REGISTRY

from services.mailer.app import build
from shared.clock import Clock
from shared.config import Settings
from tests.support.fixtures import running
from tests.support.mailer import (
    advisory,
    customers,
    deliveries,
    eventually,
    nats,
    states,
    wait_states,
)
from tests.support.smtp import SmtpSink

RELAY_DENIED = "554 5.7.1 <{}>: Relay access denied"


async def _suppressions(database_url: str) -> dict[str, str]:
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch("SELECT email, reason FROM mailer.suppressions")
    finally:
        await conn.close()
    return {r["email"]: r["reason"] for r in rows}


def _paused(path: str, code: str) -> float | None:
    value: float | None = REGISTRY.get_sample_value(
        "anshin_mailer_path_paused", {"path": path, "code": code}
    )
    return value


def _pauses(path: str, code: str) -> float:
    labels = {"path": path, "code": code}
    return REGISTRY.get_sample_value("anshin_mailer_path_pauses_total", labels) or 0.0


async def test_a_relay_refusing_everyone_for_a_minute_suppresses_no_one(
    settings: Settings, clock: Clock, smtp_sink: SmtpSink, caplog: pytest.LogCaptureFixture
) -> None:
    # A relay misconfigured for a minute answers 554 5.7.1 at RCPT to every recipient.
    storm_ends = clock.now() + timedelta(minutes=1)
    smtp_sink.verdict = lambda rcpt: RELAY_DENIED.format(rcpt) if clock.now() < storm_ends else None
    people = [(f"c-{n}", f"p{n}@d{n % 3}.example", "en", "UTC") for n in range(30)]
    pauses = _pauses("relay", "554 5.7.1")
    caplog.set_level(logging.INFO, logger="services.mailer.paths")
    async with running(build, settings, clock, settings.mailer_port), nats(settings.nats_url) as nc:
        await customers(nc, *people)
        await advisory(nc, "adv-storm", kind="recall")
        await deliveries(nc, "adv-storm", [c for c, *_ in people], kind="recall")

        # Twenty refusals in a row pause the relay; what was not yet tried by then waits,
        # queued, for the probes (how many depends on how claims fell on a busy machine).
        async def refused_or_waiting() -> bool:
            now = await states(settings.database_url)
            return (
                set(now) <= {"queued", "deferred"}
                and sum(now.values()) == 30
                and (now.get("deferred", 0) >= 20)
            )

        await eventually(refused_or_waiting)
        assert await _suppressions(settings.database_url) == {}
        # Twenty refusals in a row across domains pause the relay and raise its alert.
        assert _pauses("relay", "554 5.7.1") == pauses + 1
        assert _paused("relay", "554 5.7.1") == 1.0
        paused = [r for r in caplog.records if r.getMessage() == "mail path paused"]
        assert [(r.path, r.code) for r in paused] == [("relay", "554 5.7.1")]  # type: ignore[attr-defined]
        # Paused, the relay is not hammered: urgent mail probes it one at a time.
        tried = len(smtp_sink.rcpt_attempts)
        clock.advance(timedelta(seconds=12))
        await eventually(lambda: len(smtp_sink.rcpt_attempts) > tried)
        await asyncio.sleep(1.0)
        assert len(smtp_sink.rcpt_attempts) <= tried + 3
        assert smtp_sink.messages == []
        # The minute is over: the next probe gets through, the relay works again, every
        # mail goes out once.
        clock.advance(timedelta(minutes=1))
        await wait_states(settings.database_url, {"sent": 30})
    assert len(smtp_sink.messages) == 30
    assert len(set(smtp_sink.message_ids())) == 30
    assert await _suppressions(settings.database_url) == {}
    assert _paused("relay", "554 5.7.1") == 0.0
    assert any(r.getMessage() == "mail path works again" for r in caplog.records)


async def test_only_a_dead_mailbox_at_rcpt_suppresses_its_address(
    settings: Settings, clock: Clock, smtp_sink: SmtpSink
) -> None:
    refused: set[str] = set()

    def once(address: str, reply: str) -> str | None:
        if address in refused:
            return None
        refused.add(address)
        return reply

    def rcpt(address: str) -> str | None:
        match address.split("@")[0]:
            case "gone":
                return "550 5.1.1 <gone@example.jp>: Recipient address rejected: User unknown"
            case "denied":
                return once(address, RELAY_DENIED.format(address))
            case "full":
                return once(address, "552 5.2.2 Mailbox full")
            case "policy":
                return once(address, "550 5.7.1 Rejected by the provider's policy")
        return None

    def data(message: object) -> str | None:
        to = str(message["To"])  # type: ignore[index]
        return once(to, "554 5.7.1 Message rejected as spam") if "spam@" in to else None

    smtp_sink.verdict = rcpt
    smtp_sink.data_verdict = data
    names = ("ok", "gone", "denied", "full", "policy", "spam")
    people = [(f"c-{n}", f"{n}@example.jp", "en", "UTC") for n in names]
    async with running(build, settings, clock, settings.mailer_port), nats(settings.nats_url) as nc:
        await customers(nc, *people)
        await advisory(nc, "adv-r")
        await deliveries(nc, "adv-r", [c for c, *_ in people])
        await wait_states(settings.database_url, {"sent": 1, "failed": 1, "deferred": 4})
        assert await _suppressions(settings.database_url) == {"gone@example.jp": "bounce"}
        clock.advance(timedelta(seconds=6))  # the backoff of a first retry
        await wait_states(settings.database_url, {"sent": 5, "failed": 1})
    assert await _suppressions(settings.database_url) == {"gone@example.jp": "bounce"}
    assert sorted(m["To"].addresses[0].username for m in smtp_sink.messages) == sorted(
        n for n in names if n != "gone"
    )


async def test_a_domain_that_refuses_everyone_pauses_alone_and_urgent_mail_probes_it(
    settings: Settings, clock: Clock, smtp_sink: SmtpSink
) -> None:
    blocked = True
    smtp_sink.verdict = lambda rcpt: (
        "554 5.7.1 Service unavailable; client host blocked"
        if blocked and rcpt.endswith("@blocked.example")
        else None
    )
    settings = msgspec.structs.replace(
        settings, smtp_breaker_failures=5, smtp_breaker_pause_s=30.0, smtp_connections=2
    )
    code, path = "554 5.7.1", "domain:blocked.example"
    routine = [(f"b-{n}", f"b{n}@blocked.example", "en", "UTC") for n in range(20)]
    others = [(f"o-{n}", f"o{n}@ok.example", "en", "UTC") for n in range(10)]
    urgent = [(f"u-{n}", f"u{n}@blocked.example", "en", "UTC") for n in range(3)]
    async with running(build, settings, clock, settings.mailer_port), nats(settings.nats_url) as nc:
        await customers(nc, *routine, *others, *urgent)
        await advisory(nc, "adv-tips")
        await deliveries(nc, "adv-tips", [c for c, *_ in routine + others])
        await wait_states(settings.database_url, {"sent": 10, "deferred": 20}, "adv-tips")
        # Five refusals pause the domain; what was claimed for it meanwhile is held back.
        # Each of the two connections may have tried one mail more while a refusal was being
        # recorded (a refusal at RCPT frees the connection before the breaker has counted it).
        assert len([a for a in smtp_sink.rcpt_attempts if "blocked" in a]) <= 5 + 2 * 2
        assert _paused(path, code) == 1.0 and not _paused("relay", code)
        # A recall to the paused domain is still tried, one mail every few seconds.
        await advisory(nc, "adv-recall", kind="recall")
        tried = len(smtp_sink.rcpt_attempts)
        await deliveries(nc, "adv-recall", [c for c, *_ in urgent], kind="recall")
        clock.advance(timedelta(seconds=6))
        await eventually(lambda: len(smtp_sink.rcpt_attempts) == tried + 1)
        await asyncio.sleep(1.0)
        assert len(smtp_sink.rcpt_attempts) == tried + 1
        # The domain takes mail again: the next recall probe closes the path, then
        # everything waiting for it goes out once its pause is over.
        blocked = False
        clock.advance(timedelta(seconds=6))
        await wait_states(settings.database_url, {"sent": 3}, "adv-recall")
        assert _paused(path, code) == 0.0
        clock.advance(timedelta(seconds=40))
        await wait_states(settings.database_url, {"sent": 30}, "adv-tips")
    assert len(smtp_sink.messages) == len(set(smtp_sink.message_ids())) == 33
    assert await _suppressions(settings.database_url) == {}
