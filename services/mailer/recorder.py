"""SMTP's answers written to the ledger as they come, in group commits under the claim's token.

One commit at a time takes every answer that arrived while the previous one ran: an answer
waits for at most two commits (a few milliseconds), never for a count of others. The pool
holds each connection's next DATA until its previous answer is committed, so a mailer killed
at any moment leaves at most one mail a connection that the relay accepted and the ledger
does not know: those are the mails sent again after the lease.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

import asyncpg

from services.mailer import fence, store_suppressions
from services.mailer.claim import Mail
from services.mailer.ledger import Key
from services.mailer.metrics import DELIVERIES, SMTP_OUTCOMES
from services.mailer.smtp import Outcome, Result
from shared.clock import Clock
from shared.db import Conn

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 30  # with backoff capped at an hour: about a day of 4xx before giving up
PATIENCE_SECONDS = 60.0  # how long a commit is retried while the database restarts

Answer = tuple[uuid.UUID, Mail, Result]


def retry_delay(attempts: int) -> timedelta:
    """Backoff after a transient SMTP failure."""
    return timedelta(seconds=min(3600, 5 * 2 ** max(0, attempts - 1)))


class Recorder:
    """Records the answers of every claim of one sender, one group commit at a time."""

    def __init__(self, pool: asyncpg.Pool, clock: Clock) -> None:
        self._pool, self._clock = pool, clock
        self._pending: list[tuple[Answer, asyncio.Future[bool]]] = []
        self._wake = asyncio.Event()
        self._closing = False
        self._task = asyncio.create_task(self._run(), name="recorder")

    def add(self, token: uuid.UUID, mail: Mail, result: Result) -> asyncio.Future[bool]:
        """Queue one answer; the future turns True once committed, False if that gave up."""
        done: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._pending.append(((token, mail, result), done))
        self._wake.set()
        return done

    async def close(self) -> None:
        """Commit what is queued, then stop."""
        self._closing = True
        self._wake.set()
        await self._task

    async def _run(self) -> None:
        while self._pending or not self._closing:
            if not self._pending:
                self._wake.clear()
                await self._wake.wait()
                continue
            part, self._pending = self._pending, []
            recorded = await self._commit_surely([answer for answer, _ in part])
            for _, done in part:
                done.set_result(recorded)

    async def _commit_surely(self, answers: Sequence[Answer]) -> bool:
        """Commit, waiting out a database that is restarting; False once patience runs out.

        The mails are out: what stays unrecorded is sent again after its lease.
        """
        deadline = time.monotonic() + PATIENCE_SECONDS
        delay = 0.1
        while True:
            try:
                await self._commit(answers)
                return True
            except Exception:
                if time.monotonic() + delay > deadline:
                    log.exception("gave up recording %d answers of SMTP", len(answers))
                    return False
                log.warning("could not record SMTP's answers; retrying", exc_info=True)
                await asyncio.sleep(delay)
                delay = min(5.0, delay * 2)

    async def _commit(self, answers: Sequence[Answer]) -> None:
        now = self._clock.now()
        by_token: dict[uuid.UUID, list[tuple[Mail, Result]]] = {}
        for token, mail, result in answers:
            by_token.setdefault(token, []).append((mail, result))
        entered: dict[str, int] = {}
        async with self._pool.acquire() as conn, conn.transaction():
            for token, part in by_token.items():
                for state, n in (await _write(conn, token, part, now)).items():
                    entered[state] = entered.get(state, 0) + n
        # Counted once committed: a retried commit counts nothing twice.
        for _, _, result in answers:
            SMTP_OUTCOMES.labels(result.outcome.value).inc()
        for state, n in entered.items():
            DELIVERIES.labels(state).inc(n)


async def _write(
    conn: Conn, token: uuid.UUID, part: Sequence[tuple[Mail, Result]], now: datetime
) -> dict[str, int]:
    """One claim's answers, each change fenced by its token."""
    sent: list[Key] = []
    failed: list[Key] = []
    errors: list[str] = []
    retry: list[Key] = []
    until: list[datetime] = []
    why: list[str] = []
    holds: list[str] = []
    bounced: dict[str, str] = {}  # address -> the reply that condemned it
    for mail, result in part:
        n = len(mail.keys)
        if result.outcome is Outcome.SENT:
            sent += mail.keys
        elif result.outcome is Outcome.HELD:  # never tried: no attempt lost
            retry += mail.keys
            until += [result.until or now] * n
            why += [result.error] * n
            holds += ["paused"] * n
        elif result.outcome is Outcome.RETRY and mail.attempts < MAX_ATTEMPTS:
            retry += mail.keys
            until += [now + retry_delay(mail.attempts)] * n
            why += [result.error] * n
            holds += ["retry"] * n
        else:
            failed += mail.keys
            errors += [result.error] * len(mail.keys)
            if result.outcome is Outcome.BOUNCED:
                bounced[mail.email] = result.error
    await fence.mark_sent(conn, token, sent, now)
    await fence.retry(conn, token, retry, until, why, holds)
    changed = await fence.mark_failed(conn, token, failed, errors)
    # Only a bounce this claim still held suppresses: a stale claim's late answer never does.
    condemned = [
        mail.email
        for mail, _ in part
        if mail.email in bounced and any(key in changed for key in mail.keys)
    ]
    await store_suppressions.bounced(conn, condemned, [bounced[e] for e in condemned])
    return {"sent": len(sent), "deferred": len(retry), "failed": len(failed)}
