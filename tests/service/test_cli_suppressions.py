"""`anshin suppression list|remove` against the mailer's real ledger and a real SMTP server."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

import asyncpg

from services.mailer import store, suppressions
from services.mailer.app import build
from shared import db
from shared.clock import Clock
from shared.config import Settings
from tests.support.fixtures import running
from tests.support.mailer import advisory, customers, deliveries, eventually, nats, wait_states
from tests.support.smtp import SmtpSink


async def _anshin(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, NATS_URL=settings.nats_url, DATABASE_URL=settings.database_url)

    def run() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "services.cli", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )

    return await asyncio.to_thread(run)


async def test_suppressions_are_listed_with_their_reason_and_lifted_one_at_a_time(
    settings: Settings, clock: Clock, smtp_sink: SmtpSink
) -> None:
    gone = True
    smtp_sink.verdict = lambda rcpt: (
        "550 5.1.1 <gone@example.jp>: User unknown" if gone and rcpt.startswith("gone@") else None
    )
    people = [(f"c-{n}", f"{n}@example.jp", "en", "UTC") for n in ("ok", "gone", "left")]
    async with running(build, settings, clock, settings.mailer_port), nats(settings.nats_url) as nc:
        await customers(nc, *people)
        await advisory(nc, "adv-1", kind="recall")
        pool = await db.create_pool(settings.database_url, "mailer", min_size=1)
        try:

            async def known() -> bool:
                async with pool.acquire() as conn:
                    return await store.contact(conn, "c-left") is not None

            await eventually(known)
            # As the one-click link does.
            assert await suppressions.unsubscribe(pool, "c-left", "left@example.jp")
        finally:
            await pool.close()
        await deliveries(nc, "adv-1", ["c-ok", "c-gone", "c-left"], kind="recall")
        await wait_states(settings.database_url, {"sent": 1, "failed": 1, "suppressed": 1})

        listed = await _anshin(settings, "suppression", "list")
        assert listed.returncode == 0, listed.stderr
        lines = listed.stdout.splitlines()
        assert lines[0].split() == ["address", "reason", "since", "detail"]
        rows = {line.split()[0]: line for line in lines[2:-1]}
        assert set(rows) == {"gone@example.jp", "left@example.jp"}
        assert " bounce " in rows["gone@example.jp"] and "550 5.1.1" in rows["gone@example.jp"]
        assert " unsubscribe " in rows["left@example.jp"]
        assert lines[-1] == "2 of 2 suppressions shown."
        one = await _anshin(settings, "suppression", "list", "--address", " Gone@Example.JP ")
        assert [line.split()[0] for line in one.stdout.splitlines()[2:-1]] == ["gone@example.jp"]

        # The mailbox works again: lifting the bounce sends what it stopped, once.
        gone = False
        lifted = await _anshin(settings, "suppression", "remove", "GONE@example.jp", "--resend")
        assert lifted.returncode == 0, lifted.stderr
        assert lifted.stdout.splitlines() == [
            "lifted: gone@example.jp (was: bounce)",
            "1 deliveries queued again",
        ]
        await wait_states(settings.database_url, {"sent": 2, "suppressed": 1})
        assert sorted(m["To"].addresses[0].username for m in smtp_sink.messages) == ["gone", "ok"]

        again = await _anshin(settings, "suppression", "remove", "gone@example.jp")
        assert again.returncode == 1
        assert again.stderr.strip() == "anshin: this address is not suppressed"
        # An unsubscribe is the customer's own word: only with --force.
        refused = await _anshin(settings, "suppression", "remove", "left@example.jp")
        assert refused.returncode == 1 and "(unsubscribe)" in refused.stderr
        forced = await _anshin(settings, "suppression", "remove", "left@example.jp", "--force")
        assert forced.returncode == 0, forced.stderr
        bad = await _anshin(settings, "suppression", "remove", "not an address")
        assert bad.returncode == 1 and "not an e-mail address" in bad.stderr
        empty = await _anshin(settings, "suppression", "list")
        assert empty.stdout.strip() == "No suppressions."

    conn = await asyncpg.connect(settings.database_url)
    try:
        audit = await conn.fetch(
            "SELECT reason, by, requeued, row_to_json(l)::text AS whole"
            " FROM mailer.suppression_lifts l ORDER BY id"
        )
    finally:
        await conn.close()
    assert [(r["reason"], r["by"], r["requeued"]) for r in audit] == [
        ("bounce", "cli", 1),
        ("unsubscribe", "cli", 0),
    ]
    assert not any("@" in r["whole"] or "gone" in r["whole"] for r in audit)
