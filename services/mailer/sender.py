"""The sender: claims due mail, renders it, hands it to SMTP and records what SMTP said."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import random
import time
from collections.abc import AsyncIterator, Sequence
from datetime import timedelta
from email.utils import parseaddr

import asyncpg
from aiohttp import web

from services.mailer import claim, ledger, mime, policy, signing, tokens
from services.mailer.metrics import DELIVERIES, SMTP_OUTCOMES
from services.mailer.render import compose, domain_of
from services.mailer.smtp import Envelope, Outcome, Result, SmtpPool
from shared.clock import Clock
from shared.config import Settings
from shared.http import POOL
from shared.service import CLOCK, SETTINGS

log = logging.getLogger(__name__)

IDLE_SECONDS = 0.5
IN_FLIGHT = 2  # claims being delivered at once: the connections never wait for the database
RECORD_EVERY = 50  # SMTP answers recorded together
SWEEP_SECONDS = 5.0
MAX_ATTEMPTS = 30  # with backoff capped at an hour: about a day of 4xx before giving up
RECORD_PATIENCE = 0.8  # share of the lease spent retrying to record what SMTP accepted
WAKE = web.AppKey("mailer_wake", asyncio.Event)


def retry_delay(attempts: int) -> timedelta:
    """Backoff after a transient SMTP failure."""
    return timedelta(seconds=min(3600, 5 * 2 ** max(0, attempts - 1)))


def unsubscribe_url(settings: Settings, customer_id: str, email: str) -> str:
    """The signed one-click unsubscribe link of a customer, for the address it is mailed to."""
    token = tokens.make(settings.secret_key, customer_id, email)
    return f"{settings.mailer_public_url}/u/{token}"


def claim_config(settings: Settings, *, limit: int = 200) -> claim.Config:
    """The claim's view of the settings."""
    return claim.Config(
        limit=limit,
        rules=policy.Rules(
            cap=settings.routine_cap,
            period=timedelta(days=settings.cap_period_days),
            quiet=policy.quiet_hours(settings.quiet_hours),
        ),
        overall_rate=settings.send_rate_per_second,
        domain_rate=settings.send_rate_per_domain,
        sender_domain=domain_of(settings.mail_from),
        public_url=settings.public_url.rstrip("/"),
    )


class Sender:
    """Delivers the ledger's due mail over a pool of reused SMTP connections."""

    def __init__(
        self, pool: asyncpg.Pool, settings: Settings, clock: Clock, wake: asyncio.Event
    ) -> None:
        self._pool, self._settings, self._clock, self._wake = pool, settings, clock, wake
        self.config = claim_config(settings)
        self.smtp = SmtpPool(settings.smtp_host, settings.smtp_port, settings.smtp_connections)
        self._signer = signing.from_settings(settings, self.config.sender_domain)
        self._from = parseaddr(settings.mail_from)[1]
        self._list_id = f"Safety messages <safety.{self.config.sender_domain}>"
        self._stopping = asyncio.Event()

    async def run(self, *, until_idle: bool = False) -> None:
        """Send until stopped (or, with `until_idle`, until nothing is due).

        Claims overlap the delivery of earlier ones (IN_FLIGHT at most), so the database and
        SMTP work at the same time. Deliveries in progress always finish: nothing sent twice.
        """
        swept = 0.0
        inflight: collections.deque[asyncio.Task[None]] = collections.deque()
        while not self._stopping.is_set():
            pause = 0.0
            try:
                if time.monotonic() - swept > SWEEP_SECONDS:
                    swept = time.monotonic()
                    if released := await ledger.release_stale(self._pool, self._clock.now()):
                        log.warning("re-queued unconfirmed mail", extra={"deliveries": released})
                claimed = await claim.claim(self._pool, self._clock.now(), self.config)
                while len(inflight) >= IN_FLIGHT or (inflight and not claimed.mails):
                    await inflight.popleft()
                if claimed.mails:
                    inflight.append(asyncio.create_task(self._deliver(claimed.mails)))
                elif claimed.rows == 0:
                    if until_idle:
                        break
                    pause = IDLE_SECONDS
                elif claimed.rate_limited:
                    # Jitter, so that replicas waiting for the same bucket take turns
                    # instead of one of them always arriving just after the refill.
                    refill = 1 / max(self.config.overall_rate, 1)
                    pause = min(IDLE_SECONDS, refill * random.uniform(0.5, 1.5))
            except Exception:
                log.warning("sender round failed; retrying", exc_info=True)
                pause = 1.0
            if pause:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(pause):
                        await self._wake.wait()
        while inflight:
            try:
                await inflight.popleft()
            except Exception:
                log.warning("a delivery failed while stopping", exc_info=True)

    async def stop(self) -> None:
        """Let the delivery in progress finish, then stop."""
        self._stopping.set()
        self._wake.set()

    async def _deliver(self, mails: Sequence[claim.Mail]) -> None:
        """Render, send and record the mails of one claim, RECORD_EVERY answers at a time.

        A mailer killed mid-claim re-sends, after the lease, what SMTP accepted but the
        ledger never heard of: recording as the answers come keeps that to a few mails.
        """
        done: list[tuple[claim.Mail, Result]] = []
        recording: list[asyncio.Task[None]] = []

        def record() -> None:
            # In the background: the connections go on sending meanwhile.
            part, results = [m for m, _ in done], [r for _, r in done]
            recording.append(asyncio.create_task(self._record_surely(part, results)))
            done.clear()

        def answered(i: int, result: Result) -> None:
            done.append((mails[i], result))
            if len(done) >= RECORD_EVERY:
                record()

        # A generator: each mail is rendered when a connection is free to take it.
        envelopes = (self.envelope(m) for m in mails)
        await self.smtp.send_all(envelopes, len(mails), answered)
        if done:
            record()
        outcomes = await asyncio.gather(*recording, return_exceptions=True)
        if failed := [o for o in outcomes if isinstance(o, BaseException)]:
            raise failed[0]

    async def _record_surely(self, mails: Sequence[claim.Mail], results: Sequence[Result]) -> None:
        """Record what SMTP said, waiting out a database that is restarting.

        The mails are out: a round left unrecorded stays `sending` until its lease runs out
        and is then sent a second time. So keep trying while the lease holds.
        """
        deadline = time.monotonic() + self.config.lease.total_seconds() * RECORD_PATIENCE
        delay = 0.2
        while True:
            try:
                await self._record(mails, results)
                return
            except Exception:
                if time.monotonic() + delay > deadline:
                    raise
                log.warning("could not record a mail round; retrying", exc_info=True)
                await asyncio.sleep(delay)
                delay = min(5.0, delay * 2)

    def envelope(self, mail: claim.Mail) -> Envelope:
        """The mail rendered and signed for SMTP; empty data where it cannot be sent."""
        first = mail.deliveries[0]
        if not mail.email.isascii():
            return Envelope(self._from, mail.email, b"")  # the pool fails it, by name
        try:
            _, data = compose(
                mail.deliveries,
                sender=self._settings.mail_from,
                unsubscribe_url=unsubscribe_url(self._settings, first.customer_id, first.email),
                list_id=self._list_id,
                date=self._clock.now(),
            )
            if self._signer is not None:
                data = self._signer.sign(data)
        except mime.UnsafeHeader as exc:
            # Kept in the ledger: the contact's next update may carry a clean name.
            log.warning("refused to compose a mail", extra={"advisory_id": first.advisory_id})
            return Envelope(self._from, mail.email, b"", problem=str(exc))
        except Exception:
            log.exception("could not render a mail", extra={"advisory_id": first.advisory_id})
            data = b""  # not sent: retried with backoff, so a fixed release picks it up
        return Envelope(self._from, mail.email, data)

    async def _record(self, mails: Sequence[claim.Mail], results: Sequence[Result]) -> None:
        now = self._clock.now()
        sent, failed, errors, suppress = [], [], [], []
        retry, until, why = [], [], []
        for mail, result in zip(mails, results, strict=True):
            if result.outcome is Outcome.SENT:
                sent += mail.keys
            elif result.outcome is Outcome.FAILED or mail.attempts >= MAX_ATTEMPTS:
                failed += mail.keys
                errors += [result.error] * len(mail.keys)
                if result.outcome is Outcome.FAILED:
                    suppress.append(mail.email)
            else:
                retry += mail.keys
                until += [now + retry_delay(mail.attempts)] * len(mail.keys)
                why += [result.error] * len(mail.keys)
        async with self._pool.acquire() as conn, conn.transaction():
            await ledger.mark_sent(conn, sent, now)
            await ledger.wait(conn, retry, until, ["retry"] * len(retry), why)
            await ledger.mark_failed(conn, failed, errors, suppress)
        for result in results:  # counted once recorded: a retried record counts nothing twice
            SMTP_OUTCOMES.labels(result.outcome.value).inc()
        for state, keys in (("sent", sent), ("deferred", retry), ("failed", failed)):
            DELIVERIES.labels(state).inc(len(keys))
        log.info(
            "mail round",
            extra={"sent": len(sent), "retry": len(retry), "failed": len(failed)},
        )


@contextlib.asynccontextmanager
async def sending(app: web.Application) -> AsyncIterator[None]:
    """A cleanup context running the sender in the background."""
    sender = Sender(app[POOL], app[SETTINGS], app[CLOCK], app[WAKE])
    task = asyncio.create_task(sender.run(), name="sender")
    yield
    await sender.stop()
    await task
    await sender.smtp.close()
