"""The sender: claims due mail, renders it, hands it to SMTP and records what SMTP said."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import random
import time
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from email.utils import parseaddr

import asyncpg
from aiohttp import web

from services.mailer import claim, links, policy, relay, signing, tokens
from services.mailer.bounces import verp
from services.mailer.health import Health
from services.mailer.leases import Leases
from services.mailer.paths import Paths
from services.mailer.recorder import Recorder
from services.mailer.replies import Outcome, Result
from services.mailer.smtp import Envelope, SmtpPool
from shared.clock import Clock
from shared.config import Settings
from shared.http import POOL
from shared.mail import mime
from shared.mail.render import compose, domain_of, list_id
from shared.service import CLOCK, SETTINGS

log = logging.getLogger(__name__)

IDLE_SECONDS = 0.5
IN_FLIGHT = 2  # claims being delivered at once: the connections never wait for the database
WAKE = web.AppKey("mailer_wake", asyncio.Event)


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
        self.smtp = SmtpPool(relay.from_settings(settings), settings.smtp_connections)
        self.paths = Paths(
            settings.smtp_breaker_failures, timedelta(seconds=settings.smtp_breaker_pause_s)
        )
        self.health = Health(pool, settings)
        self._gate = self.health.before(self.paths.gate)
        self._signer = signing.from_settings(settings, self.config.sender_domain)
        self._from = parseaddr(settings.mail_from)[1]
        self._bounce_domain = settings.bounce_domain or self.config.sender_domain
        self._list_id = list_id(settings.mail_from)
        self._stopping = asyncio.Event()

    async def run(self, *, until_idle: bool = False) -> None:
        """Send until stopped (or, with `until_idle`, until nothing is due).

        Claims overlap the delivery of earlier ones (IN_FLIGHT at most), so the database and
        SMTP work at the same time. Deliveries in progress always finish: nothing sent twice.
        """
        leases = Leases(self._pool, self.config.lease)
        recorder = Recorder(self._pool, self._clock, self._settings.smtp_connections)
        renewing = asyncio.create_task(leases.renew_forever(), name="leases")
        inflight: collections.deque[asyncio.Task[None]] = collections.deque()
        try:
            await self._loop(leases, recorder, inflight, until_idle)
        finally:
            while inflight:
                await _settled(inflight.popleft())
            await recorder.close()
            renewing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewing

    async def _loop(
        self,
        leases: Leases,
        recorder: Recorder,
        inflight: collections.deque[asyncio.Task[None]],
        until_idle: bool,
    ) -> None:
        swept = 0.0
        while not self._stopping.is_set():
            pause = 0.0
            try:
                if time.monotonic() - swept > leases.every:
                    swept = time.monotonic()
                    now = self._clock.now()
                    if released := await leases.sweep(now):
                        log.warning("re-queued unconfirmed mail", extra={"deliveries": released})
                now = self._clock.now()
                await self.health.refresh(now)
                allowed = self.paths.relay_claim(now, self.config.limit)
                if allowed is None:  # the relay is paused: wait for its next probe
                    claimed = claim.Claim(mails=[], rows=0)
                else:
                    limit, lowest = allowed
                    claimed = await claim.claim(
                        self._pool, now, self.config, self._gate, limit=limit, lowest=lowest
                    )
                if claimed.mails:  # renewed from now on, while it waits for its turn too
                    leases.held.add(claimed.token)
                while len(inflight) >= IN_FLIGHT or (inflight and not claimed.mails):
                    await _settled(inflight.popleft())  # never raises: the claim above goes
                if claimed.mails:
                    task = self._deliver(claimed, recorder, leases)
                    inflight.append(asyncio.create_task(task))
                elif claimed.rows == 0:
                    if until_idle and allowed is not None:
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

    async def stop(self) -> None:
        """Let the delivery in progress finish, then stop."""
        self._stopping.set()
        self._wake.set()

    async def _deliver(self, claimed: claim.Claim, recorder: Recorder, leases: Leases) -> None:
        """Render, send and record the mails of one claim; its lease is renewed meanwhile.

        Each answer is heard by the paths' breakers at once and recorded by the next group
        commit; a connection's next DATA waits for that commit.
        """
        mails, token = claimed.mails, claimed.token
        recorded: list[asyncio.Future[bool]] = []
        outcomes: collections.Counter[str] = collections.Counter()

        def answered(i: int, result: Result) -> asyncio.Future[bool]:
            self.paths.heard(mails[i].email, result, self._clock.now())
            outcomes[result.outcome.value] += 1
            recorded.append(recorder.add(token, mails[i], result))
            return recorded[-1]

        def envelopes() -> Iterator[Envelope | Result]:
            # Each mail is rendered when a connection is free to take it; held back if its
            # path paused since the claim.
            for mail in mails:
                until = self.paths.held(mail.email, mail.priority, claimed.at or self._clock.now())
                if until is None:
                    yield self.envelope(mail)
                else:
                    yield Result(Outcome.HELD, "not tried: its mail path paused", until=until)

        try:
            await self.smtp.send_all(envelopes(), len(mails), answered)
            if not all(await asyncio.gather(*recorded)):
                raise RuntimeError("SMTP's answers could not all be recorded")
        finally:
            leases.held.discard(token)
        log.info("mail round", extra=dict(outcomes))

    def return_path(self, mail: claim.Mail) -> str:
        """The envelope sender of a mail: its VERP address, so that a bounce names it."""
        secret = self._settings.secret_key
        return verp.return_path(secret, self._bounce_domain, mail.message_id, mail.email)

    def envelope(self, mail: claim.Mail) -> Envelope:
        """The mail rendered and signed for SMTP; empty data where it cannot be sent."""
        first = mail.deliveries[0]
        if not mail.email.isascii():
            return Envelope(self._from, mail.email, b"")  # the pool fails it, by name
        try:
            _, data = compose(
                # Each delivery's own signed links: the safety page's and the two answers.
                [links.linked(d, self._settings) for d in mail.deliveries],
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
        return Envelope(self.return_path(mail), mail.email, data)


async def _settled(delivery: asyncio.Task[None]) -> None:
    """Wait for a delivery; one that failed is logged (its rows come back after the lease)."""
    try:
        await delivery
    except Exception:
        log.warning("a delivery failed", exc_info=True)


@contextlib.asynccontextmanager
async def sending(app: web.Application) -> AsyncIterator[None]:
    """A cleanup context running the sender in the background."""
    sender = Sender(app[POOL], app[SETTINGS], app[CLOCK], app[WAKE])
    task = asyncio.create_task(sender.run(), name="sender")
    yield
    await sender.stop()
    await task
    await sender.smtp.close()
