"""The mailer's corrections and withdrawal notices against its real tables: a second
amendment replaces a correction still waiting (one mail, not two), a recall's correction
keeps the recall's priority, whoever got the new version already gets none, and a withdrawal
notice whose claim died is sent again, not cancelled with the advice."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import asyncpg
import msgspec

from services.mailer import handlers
from services.mailer.store import fence
from shared import db
from shared import messages as m
from shared.clock import Clock
from shared.config import Settings
from tests.support.mailer import stored_deliveries

IDS = ["c-1", "c-2"]


async def _pool(settings: Settings) -> asyncpg.Pool:
    pool = await db.create_pool(settings.database_url, "mailer", min_size=1)
    await db.migrate(pool, "mailer", "services.mailer")
    return pool


def _version(advisory_id: str, version: int, clock: Clock) -> m.AdvisoryPublished:
    """Version `version` of the advisory stored_deliveries made, as a correction."""
    return m.AdvisoryPublished(
        advisory_id=advisory_id, version=version, agency_id="ag", agency_name="Fire Department",
        rule=msgspec.convert({"kind": "recall"}, m.AdvisoryRule), title={"en": "Advice"},
        body={"en": f"Read it, version {version}."}, published_at=clock.now(),
        corrected_at=clock.now(),
    )  # fmt: skip


async def _rows(pool: asyncpg.Pool) -> list[tuple[str, str, str, int]]:
    rows = await pool.fetch(
        "SELECT customer_id, event_id, state, priority FROM deliveries ORDER BY 1, 2"
    )
    return [(r["customer_id"], r["event_id"], r["state"], r["priority"]) for r in rows]


async def test_a_second_amendment_replaces_the_correction_still_waiting(
    settings: Settings, clock: Clock
) -> None:
    pool = await _pool(settings)
    wake = asyncio.Event()
    try:
        await stored_deliveries(pool, "adv-r", "recall", IDS, clock.now())
        await pool.execute("UPDATE deliveries SET state = 'sent', sent_at = $1", clock.now())
        await handlers.on_advisory(_version("adv-r", 2, clock), pool=pool, clock=clock, wake=wake)
        # The same again, as a redelivery brings it; then the next amendment.
        await handlers.on_advisory(_version("adv-r", 2, clock), pool=pool, clock=clock, wake=wake)
        await handlers.on_advisory(_version("adv-r", 3, clock), pool=pool, clock=clock, wake=wake)
        # Version 2 once more, late: it changes nothing of version 3's.
        await handlers.on_advisory(_version("adv-r", 2, clock), pool=pool, clock=clock, wake=wake)
        rows = await _rows(pool)
    finally:
        await pool.close()
    assert wake.is_set()
    assert rows == [
        (c, e, s, 80)  # the recall's priority: it bypasses caps and quiet hours as it did
        for c in IDS
        for e, s in (("", "sent"), ("correction:v2", "cancelled"), ("correction:v3", "queued"))
    ]


async def test_whoever_received_the_new_version_already_gets_no_correction(
    settings: Settings, clock: Clock
) -> None:
    pool = await _pool(settings)
    try:
        await stored_deliveries(pool, "adv-n", "recall", IDS, clock.now())
        # c-2 is newly inside the widened rule, and its mail went out after the mailer kept
        # version 2 (the claim records the version it carried).
        await pool.execute("UPDATE deliveries SET state = 'sent', version = 1")
        await pool.execute("UPDATE deliveries SET version = 2 WHERE customer_id = 'c-2'")
        event = _version("adv-n", 2, clock)
        await handlers.on_advisory(event, pool=pool, clock=clock, wake=asyncio.Event())
        rows = await _rows(pool)
    finally:
        await pool.close()
    assert [(c, e) for c, e, _, _ in rows] == [("c-1", ""), ("c-1", "correction:v2"), ("c-2", "")]


async def test_a_withdrawal_notice_whose_claim_died_is_sent_again(
    settings: Settings, clock: Clock
) -> None:
    pool = await _pool(settings)
    wake = asyncio.Event()
    try:
        await stored_deliveries(pool, "adv-w", "recall", IDS, clock.now())
        await pool.execute("UPDATE deliveries SET state = 'sent' WHERE customer_id = 'c-1'")
        withdrawn = m.AdvisoryWithdrawn(
            advisory_id="adv-w", withdrawn_at=clock.now(), notify_recipients=True
        )
        await handlers.on_advisory(withdrawn, pool=pool, clock=clock, wake=wake)
        assert await _rows(pool) == [
            ("c-1", "", "sent", 80),
            ("c-1", "withdrawal", "queued", 80),
            ("c-2", "", "cancelled", 80),  # it never reached c-2: nothing to take back
        ]
        # A replica claimed the notice and died: its lease runs out.
        past = clock.now() - timedelta(minutes=1)
        await pool.execute(
            "UPDATE deliveries SET state = 'sending', lease_until = $1 WHERE event_id = $2",
            past,
            "withdrawal",
        )
        async with pool.acquire() as conn:
            assert await fence.release_stale(conn, clock.now()) == 1
        rows = await _rows(pool)
    finally:
        await pool.close()
    assert ("c-1", "withdrawal", "queued", 80) in rows
