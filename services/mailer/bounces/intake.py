"""What a report does, whatever intake brought it: the ledger row of its mail records it; a
hard bounce or a complaint suppresses the address at once, soft bounces once enough of them
came within the window. Each report is taken once (by its intake's id), in one transaction
that commits before the intake answers: what was accepted is never lost.
"""

from __future__ import annotations

import enum
import logging
from datetime import datetime, timedelta

import asyncpg
import msgspec

from services.mailer import store
from services.mailer.bounces import verp
from services.mailer.bounces.reports import Kind, Report
from services.mailer.metrics import FEEDBACK
from services.mailer.store import feedback
from shared.db import Conn, unit_of_work

log = logging.getLogger(__name__)


class Outcome(enum.Enum):
    """What one report did."""

    SUPPRESSED = "suppressed"  # the address is suppressed now (or already was)
    COUNTED = "counted"  # a soft bounce, below the limit
    RECORDED = "recorded"  # on the ledger only: ignored, or the contact has moved since
    UNKNOWN = "unknown"  # no mail of ours matches it
    DUPLICATE = "duplicate"  # taken before


class Policy(msgspec.Struct, frozen=True):
    """How many soft bounces within which window suppress an address."""

    soft_limit: int = 3
    soft_window: timedelta = timedelta(days=7)


async def take(
    pool: asyncpg.Pool,
    report: Report,
    *,
    intake: str,
    event_id: str,
    now: datetime,
    policy: Policy,
    named: verp.Named | None = None,
    secret: str = "",
) -> Outcome:
    """Apply one report: of the mail a VERP token names, or else of the address it names."""
    async with unit_of_work(pool) as conn:
        if not await feedback.first_report(conn, event_id, intake):
            outcome = Outcome.DUPLICATE
        else:
            outcome = await _apply(conn, report, now, policy, named, secret)
    FEEDBACK.labels(intake, "accepted").inc()
    if outcome is Outcome.SUPPRESSED:
        FEEDBACK.labels(intake, "suppressed").inc()
    log.info(
        "returned mail taken",
        extra={"intake": intake, "kind": report.kind.value, "outcome": outcome.value},
    )
    return outcome


async def _apply(
    conn: Conn,
    report: Report,
    now: datetime,
    policy: Policy,
    named: verp.Named | None,
    secret: str,
) -> Outcome:
    if named is not None:
        rows = await feedback.mail_rows(conn, named.ref)
        email = rows[0]["email"] if rows else None
        if email is not None and not verp.same_address(secret, named, email):
            email = None  # the customer has moved: the old address is none of theirs now
    elif report.address:
        rows = await feedback.rows_to(conn, report.address, report.message_id)
        email = report.address
    else:
        rows, email = [], None
    if not rows:
        return Outcome.UNKNOWN
    keys = [(r["advisory_id"], r["event_id"], r["customer_id"]) for r in rows]
    await feedback.record(conn, keys, report.kind.value, report.detail, now)
    if email is None or report.kind is Kind.IGNORED:
        return Outcome.RECORDED
    if report.kind is Kind.SOFT:
        since = now - policy.soft_window
        count = await feedback.soft_bounces(conn, email, report.detail, now, since)
        if count < policy.soft_limit:
            return Outcome.COUNTED
        days = policy.soft_window / timedelta(days=1)
        detail = f"{count} soft bounces within {days:g} days; the last: {report.detail}"
        await store.suppress_bounced(conn, [email], [detail])
    elif report.kind is Kind.HARD:
        await store.suppress_bounced(conn, [email], [report.detail])
    else:
        await feedback.suppress_complaint(conn, email, report.detail)
    await store.suppress_waiting(conn, email)
    return Outcome.SUPPRESSED
