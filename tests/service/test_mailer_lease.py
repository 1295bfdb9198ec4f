"""A claim is fenced and kept alive: a slow relay causes no second claim, a killed mailer's
mail comes back within seconds, and a stale claim cannot change a row."""

from __future__ import annotations

import asyncio
import collections
import time
import uuid
from datetime import timedelta
from pathlib import Path

import asyncpg
import msgspec

from services.mailer import sender
from services.mailer.store import fence
from shared import db
from shared.clock import Clock
from shared.config import Settings
from tests.support.mailer import eventually, states, stored_deliveries
from tests.support.process import ServiceProcess
from tests.support.smtp import SmtpSink


async def _migrated_pool(settings: Settings) -> asyncpg.Pool:
    pool = await db.create_pool(settings.database_url, "mailer", min_size=1)
    await db.migrate(pool, "mailer", "services.mailer")
    return pool


async def _ledger(database_url: str) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(database_url)
    try:
        return await conn.fetch("SELECT customer_id, state, message_id FROM mailer.deliveries")
    finally:
        await conn.close()


async def test_a_slow_relay_never_causes_a_second_claim(
    settings: Settings, clock: Clock, smtp_sink: SmtpSink
) -> None:
    # Every mail takes 3 s at the relay, the lease is 2 s: eight mails over four connections
    # keep the claim busy for 6 s, three leases. A claim that is not renewed is swept by the
    # other replica while its mails are on the wire, sent a second time, and its late answers
    # overwrite the rows.
    smtp_sink.data_delay = 3.0
    settings = msgspec.structs.replace(
        settings, send_rate_per_second=0.0, send_rate_per_domain=0.0, smtp_connections=4
    )
    pool = await _migrated_pool(settings)
    ids = [f"c-{n}" for n in range(8)]
    replicas = [sender.Sender(pool, settings, clock, asyncio.Event()) for _ in range(2)]
    for replica in replicas:
        replica.config = msgspec.structs.replace(replica.config, lease=timedelta(seconds=2))
    try:
        await stored_deliveries(pool, "adv-slow", "recall", ids, clock.now())
        running = [asyncio.create_task(replica.run()) for replica in replicas]
        try:
            await smtp_sink.wait_for(8, timeout=30)
            await asyncio.sleep(7.0)  # long enough for a second copy to arrive
        finally:
            for replica in replicas:
                await replica.stop()
            await asyncio.gather(*running)
            for replica in replicas:
                await replica.smtp.close()
    finally:
        await pool.close()
    accepted = smtp_sink.message_ids()
    assert len(accepted) == len(set(accepted)) == 8, collections.Counter(accepted)
    assert len(smtp_sink.data_attempts) == 8
    rows = await _ledger(settings.database_url)
    assert {r["state"] for r in rows} == {"sent"}
    assert {r["message_id"] for r in rows} == set(accepted)


async def test_a_killed_mailer_s_mail_resumes_within_15_seconds(
    settings: Settings, clock: Clock, smtp_sink: SmtpSink, tmp_path: Path
) -> None:
    # A real process, killed while its claim of 40 mails is on the wire: the next process
    # takes up what the dead one had claimed once its lease has run out.
    smtp_sink.data_delay = 0.25
    settings = msgspec.structs.replace(
        settings, send_rate_per_second=0.0, send_rate_per_domain=0.0, smtp_connections=4
    )
    mailer = ServiceProcess("mailer", settings, tmp_path / "logs")
    await mailer.start()  # it migrates the schema
    pool = await db.create_pool(settings.database_url, "mailer", min_size=1)
    try:
        # One statement: the first claim takes all forty.
        await stored_deliveries(pool, "adv-k", "recall", [f"c-{n}" for n in range(40)], clock.now())
        await smtp_sink.wait_for(8, timeout=30)
        mailer.kill()
        killed = time.monotonic()
        before = set(smtp_sink.message_ids())
        claimed = {
            r["message_id"] for r in await _ledger(settings.database_url) if r["state"] == "sending"
        }
        assert len(claimed - before) > 20, "the dead mailer left no claimed mail behind"
        await mailer.start()

        def resumed() -> bool:
            return bool((set(smtp_sink.message_ids()) - before) & claimed)

        await eventually(resumed, timeout=60)
        seconds = time.monotonic() - killed
        await eventually(lambda: len(set(smtp_sink.message_ids())) == 40, timeout=60)

        async def all_sent() -> bool:
            return await states(settings.database_url) == {"sent": 40}

        await eventually(all_sent, timeout=30)
    finally:
        await pool.close()
        mailer.stop()
    assert seconds < 15, f"sending resumed {seconds:.1f} s after the kill\n{mailer.log()[-3000:]}"
    copies = collections.Counter(smtp_sink.message_ids())
    twice = sum(n - 1 for n in copies.values())
    # At most what was on the wire when the process died: one mail per connection.
    assert twice <= settings.smtp_connections, copies


async def test_renewing_never_waits_for_a_row_being_recorded(
    settings: Settings, clock: Clock
) -> None:
    # The recorder updates a claim's rows while the lease keeper renews them, each in its own
    # order: each waiting for a row the other holds is a deadlock, and PostgreSQL aborts one.
    pool = await _migrated_pool(settings)
    token = uuid.uuid4()
    try:
        await stored_deliveries(pool, "adv-renew", "recall", ["c-0", "c-1", "c-2"], clock.now())
        async with pool.acquire() as recording, pool.acquire() as renewing:
            await recording.execute(
                "UPDATE deliveries SET state = 'sending', claim_token = $1,"
                " lease_until = clock_timestamp() WHERE advisory_id = 'adv-renew'",
                token,
            )
            async with recording.transaction():
                await recording.execute(
                    "UPDATE deliveries SET error = 'being recorded' WHERE customer_id = 'c-1'"
                )
                await renewing.execute("SET lock_timeout = '2s'")  # the old way fails here
                assert await fence.renew(renewing, [token], timedelta(seconds=60)) == 2
    finally:
        await pool.close()
