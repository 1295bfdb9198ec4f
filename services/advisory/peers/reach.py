"""An advisory's reach for the console and the portal: `mailer.report` in five series."""

from __future__ import annotations

from datetime import datetime

import msgspec
from nats.aio.client import Client

from services.advisory.lifecycle import Advisory, embargo
from services.advisory.peers.ask import Unavailable, ask
from services.advisory.peers.funnel import Funnel, funnel_of
from shared import messages as m
from shared.bus import Subjects

SERIES = ("matched", "sent", "waiting", "suppressed", "failed")
# The mailer counts its ledger's own states; these are the ones still on their way.
_WAITING = ("queued", "deferred", "sending", "waiting")
# A mail withdrawn before it went out, or whose advisory expired while it waited (the cap,
# quiet hours), was, like a suppressed one, never sent on purpose.
_NOT_SENT = ("suppressed", "cancelled", "expired")


class Day(msgspec.Struct, frozen=True):
    """The deliveries of one UTC day (of sending, else of the request), in five series."""

    day: str
    counts: dict[str, int]


class Reach(msgspec.Struct, frozen=True):
    """An advisory's reach; `problem` says why there is none to show."""

    counts: dict[str, int]
    days: list[Day]
    problem: str = ""
    waits: list[m.Wait] = []  # why what waits is waiting (the desks word it)
    asked_at: datetime | None = None  # when the mailer was asked: a wait ends after it
    funnel: Funnel = msgspec.field(default_factory=lambda: funnel_of({}))
    waiting_by_domain: dict[str, int] = {}  # what waits, by recipient domain (its rate's key)


def five(counts: dict[str, int]) -> dict[str, int]:
    """Ledger states (queued, deferred, sending, sent, …) as matched, sent, waiting, …."""
    total = sum(n for state, n in counts.items() if state != "matched")
    return {
        "matched": max(counts.get("matched", 0), total),
        "sent": counts.get("sent", 0),
        "waiting": sum(counts.get(state, 0) for state in _WAITING),
        "suppressed": sum(counts.get(state, 0) for state in _NOT_SENT),
        "failed": counts.get("failed", 0),
    }


def none_yet(problem: str = "") -> Reach:
    """The reach of an advisory that was never published: nothing."""
    return Reach(counts=dict.fromkeys(SERIES, 0), days=[], problem=problem)


async def ledger_of(nc: Client, advisory: Advisory, timeout: float = 0) -> m.ReachReport | None:
    """The mailer's report of an advisory; None before its publication (raises Unavailable).

    The embargoed id never crosses the bus, so an embargoed advisory reaches nobody yet.
    """
    if not embargo.ever_public(advisory.published_at):
        return None
    question = m.ReportRequest(advisory_id=advisory.id)
    return await ask(nc, Subjects.MAILER_REPORT, question, m.ReachReport, "mailer", timeout)


async def reach_of(nc: Client, advisory: Advisory, now: datetime, timeout: float = 2.0) -> Reach:
    """How far an advisory has reached, for a page: a problem in words where none can be had."""
    try:
        report = await ledger_of(nc, advisory, timeout)
    except Unavailable as exc:
        return none_yet(exc.message)
    if report is None:
        return none_yet()
    days = [Day(day=d.day, counts=five(d.counts)) for d in report.by_day]
    funnel = funnel_of(report.funnel)
    return Reach(
        counts=five(report.counts),
        days=days,
        waits=report.waits,
        asked_at=now,
        funnel=funnel,
        waiting_by_domain=report.waiting_by_domain,
    )


def total(reaches: list[Reach]) -> dict[str, int]:
    """Several advisories' reach added up, series by series."""
    return {s: sum(r.counts.get(s, 0) for r in reaches) for s in SERIES}
