"""The store's SQL applies the embargo rule as lifecycle/embargo.py states it, at every time."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

import msgspec

from services.advisory.agencies import store as agencies
from services.advisory.lifecycle import AdvisoryIn, State, embargo, store
from services.advisory.lifecycle.store import COLUMNS, FROM
from services.advisory.public import store as public
from shared import db
from shared.clock import Clock
from shared.config import Settings
from shared.outbox import DDL as OUTBOX_DDL
from tests.support.shop import power_bank_advisory

STATES: tuple[State, ...] = ("embargoed", "published", "withdrawn")


async def test_the_sql_and_the_rule_agree_on_what_is_due_and_what_is_public(
    settings: Settings, clock: Clock
) -> None:
    t0 = clock.now().replace(microsecond=0)
    hour = timedelta(hours=1)
    pool = await db.create_pool(settings.database_url, "advisory", min_size=1, max_size=2)
    try:
        async with pool.acquire() as conn:
            await conn.execute('CREATE SCHEMA IF NOT EXISTS "advisory"')
            await conn.execute(OUTBOX_DDL)
        await db.migrate(pool, "advisory", "services.advisory")
        agency = await agencies.create_agency(pool, "NITE", "hash")
        # Every state, with an embargo and an expiry before, at and after each time asked.
        embargoes = [t0 - hour, t0, t0 + hour]
        expiries: list[datetime | None] = [None, *embargoes]
        for state, until, expires in itertools.product(STATES, embargoes, expiries):
            submitted = msgspec.convert(power_bank_advisory(until), AdvisoryIn)
            advisory_id = await store.create_advisory(pool, agency, submitted, t0 - 2 * hour)
            async with pool.acquire() as conn:
                await conn.execute(
                    "UPDATE advisories SET state = $2, expires_at = $3, published_at = $4,"
                    " embargo_until = $5, pending_until = $3 WHERE id = $1",
                    advisory_id,
                    state,
                    expires,  # also a correction's embargo: none, before, at and after
                    None if state == "embargoed" else until,
                    until,
                )
        every = await store.list_advisories(pool, None)
        assert len(every) == 3 * 3 * 4
        for now in (t0 - 2 * hour, t0 - hour, t0, t0 + hour, t0 + 2 * hour):
            async with pool.acquire() as conn:
                due = await conn.fetch(f"SELECT a.id {FROM} WHERE {embargo.due_sql()}", now)
                public_ids = await conn.fetch(
                    f"SELECT {COLUMNS} {FROM} WHERE {embargo.public_sql()}", now
                )
            assert {r["id"] for r in due} == {
                a.id for a in every if embargo.is_due(a.state, a.embargo_until, now)
            }
            async with pool.acquire() as conn:
                corrections = await conn.fetch(
                    f"SELECT a.id {FROM} WHERE {embargo.correction_due_sql()}", now
                )
            assert {r["id"] for r in corrections} == {
                a.id for a in every if embargo.correction_due(a.state, a.pending_until, now)
            }
            expected = {a.id for a in every if embargo.is_public(a.state, a.expires_at, now)}
            assert {r["id"] for r in public_ids} == expected
            assert {a.id for a in await public.published(pool, now)} == expected
            for a in every:
                view, shown = await public.public_one(pool, a.id, now)
                assert view == embargo.public_view(a.state, a.published_at, a.expires_at, now)
                assert (shown is not None) == (view == "public")
    finally:
        await pool.close()
