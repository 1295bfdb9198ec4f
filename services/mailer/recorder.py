"""SMTP's answers written to the ledger as they come, in group commits under the claim's token.

The pool holds each connection's next DATA until its previous answer is committed, so a
mailer killed at any moment leaves at most one mail a connection that the relay accepted and
the ledger does not know: those are the mails sent again after the lease. One commit at a
time takes the answers waiting: as soon as every connection has one waiting (none can send
more before the commit), or WINDOW after the first. A commit per answer cost about 0.25 ms
of CPU a mail, more than rendering it. The recorder keeps its connection between commits:
taking one from the pool and giving it back cost a round trip and four statements (asyncpg
resets a connection it is given back) for each group of answers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

import asyncpg

from services.mailer import store
from services.mailer.claim import Mail
from services.mailer.metrics import DELIVERIES, SMTP_OUTCOMES
from services.mailer.replies import Outcome, Result
from services.mailer.store import fence
from shared.clock import Clock
from shared.db import KeptConnection

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 30  # with backoff capped at an hour: about a day of 4xx before giving up
PATIENCE_SECONDS = 60.0  # how long a commit is retried while the database restarts
WINDOW = 0.005  # seconds the first answer of a group waits for the others

Answer = tuple[uuid.UUID, Mail, Result]


def retry_delay(attempts: int) -> timedelta:
    """Backoff after a transient SMTP failure."""
    return timedelta(seconds=min(3600, 5 * 2 ** max(0, attempts - 1)))


class Recorder:
    """Records the answers of every claim of one sender, one group commit at a time."""

    def __init__(self, pool: asyncpg.Pool, clock: Clock, group: int = 1) -> None:
        self._pool, self._clock, self._group = pool, clock, group
        self._pending: list[tuple[Answer, asyncio.Future[bool]]] = []
        self._wake = asyncio.Event()
        self._closing = False
        self._kept = KeptConnection(pool)  # from commit to commit
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
        await self._kept.release()

    async def _run(self) -> None:
        while self._pending or not self._closing:
            if not self._pending:
                self._wake.clear()
                await self._wake.wait()
                continue
            await self._gather()
            part, self._pending = self._pending, []
            recorded = await self._commit_surely([answer for answer, _ in part])
            for _, done in part:
                if not done.done():  # a sender cancelled while it waited cancels its future
                    done.set_result(recorded)

    async def _gather(self) -> None:
        """Wait until every connection has an answer waiting, WINDOW at most."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(WINDOW):
                while len(self._pending) < self._group and not self._closing:
                    self._wake.clear()
                    await self._wake.wait()

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
        changes, bounced, entered = _changes(answers, now)
        # Without a bounce, one statement: atomic without a transaction. A failed commit
        # gives the connection back; the next try takes a fresh one.
        async with self._kept.unit_of_work(transaction=bool(bounced)) as conn:
            failed = await fence.record(conn, changes, now)
            # Only a bounce this claim still held suppresses: a stale claim's late answer
            # never does.
            condemned = [
                (mail.email, error)
                for mail, error in bounced
                if any(key in failed for key in mail.keys)
            ]
            if condemned:
                await store.suppress_bounced(
                    conn, [e for e, _ in condemned], [d for _, d in condemned]
                )
        # Counted once committed: a retried commit counts nothing twice.
        for _, _, result in answers:
            SMTP_OUTCOMES.labels(result.outcome.value).inc()
        for state, n in entered.items():
            DELIVERIES.labels(state).inc(n)


def _changes(
    answers: Sequence[Answer], now: datetime
) -> tuple[list[fence.Change], list[tuple[Mail, str]], dict[str, int]]:
    """What each answer does to its rows; the bounced mails; rows entering each state."""
    changes: list[fence.Change] = []
    bounced: list[tuple[Mail, str]] = []
    entered = {"sent": 0, "deferred": 0, "failed": 0}
    for token, mail, result in answers:
        if result.outcome is Outcome.SENT:
            state, until, error, hold = "sent", None, None, None
        elif result.outcome is Outcome.HELD:  # never tried: no attempt lost
            state, until, error, hold = "deferred", result.until or now, result.error, "paused"
        elif result.outcome is Outcome.RETRY and mail.attempts < MAX_ATTEMPTS:
            until = now + retry_delay(mail.attempts)
            state, error, hold = "deferred", result.error, "retry"
        else:
            state, until, error, hold = "failed", None, result.error, None
            if result.outcome is Outcome.BOUNCED:
                bounced.append((mail, result.error))
        changes += [fence.Change(key, token, state, until, error, hold) for key in mail.keys]
        entered[state] += len(mail.keys)
    return changes, bounced, entered
