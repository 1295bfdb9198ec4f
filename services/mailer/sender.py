"""The sender: claims due deliveries, renders them and hands them to SMTP."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from datetime import timedelta

import aiosmtplib
import asyncpg
from aiohttp import web

from services.mailer import store, tokens
from services.mailer.render import Delivery, render
from shared.clock import Clock
from shared.config import Settings
from shared.http import POOL
from shared.service import CLOCK, SETTINGS

log = logging.getLogger(__name__)

CLAIM = 50
IDLE_SECONDS = 0.5


def retry_delay(attempts: int) -> timedelta:
    """Backoff after a transient SMTP failure."""
    return timedelta(seconds=min(3600, 5 * 2 ** max(0, attempts - 1)))


def unsubscribe_url(settings: Settings, customer_id: str) -> str:
    """The signed one-click unsubscribe link of a customer."""
    return f"{settings.mailer_public_url}/u/{tokens.make(settings.secret_key, customer_id)}"


def delivery_of(row: asyncpg.Record) -> Delivery:
    """A claimed ledger row as a renderable delivery."""
    return Delivery(
        advisory_id=row["advisory_id"],
        customer_id=row["customer_id"],
        email=row["email"],
        name=row["name"],
        locale=row["locale"],
        agency_name=row["agency_name"],
        title=json.loads(row["title"]),
        body=json.loads(row["body"]),
        source_url=row["source_url"],
        purchases=json.loads(row["purchases"]),
    )


class Sender:
    """Delivers the ledger's due mail over one reused SMTP connection."""

    def __init__(self, pool: asyncpg.Pool, settings: Settings, clock: Clock) -> None:
        self._pool = pool
        self._settings = settings
        self._clock = clock
        self._smtp: aiosmtplib.SMTP | None = None

    async def run(self) -> None:
        """Send for ever: claim, send, record; sweep what a crashed sender left behind."""
        while True:
            try:
                await store.release_stale(self._pool, self._clock.now())
                sent = await self.send_due()
            except Exception:
                log.warning("sender round failed; retrying", exc_info=True)
                sent = 0
                await asyncio.sleep(1.0)
            if sent == 0:
                await asyncio.sleep(IDLE_SECONDS)

    async def send_due(self) -> int:
        """Claim and send one round of due deliveries; return how many were claimed."""
        rows = await store.claim_due(self._pool, self._clock.now(), CLAIM)
        for row in rows:
            await self._send(row)
        return len(rows)

    async def _send(self, row: asyncpg.Record) -> None:
        delivery = delivery_of(row)
        settings = self._settings
        msg = render(
            delivery,
            sender=settings.mail_from,
            unsubscribe_url=unsubscribe_url(settings, delivery.customer_id),
            list_id="Anshin safety messages <safety.anshin>",
        )
        ids = (delivery.advisory_id, delivery.customer_id)
        try:
            smtp = await self._connection()
            await smtp.send_message(msg)
        except aiosmtplib.SMTPRecipientsRefused as exc:
            code = min(e.code for e in exc.recipients)
            await self._failed(row, code, str(exc))
        except aiosmtplib.SMTPResponseException as exc:
            await self._failed(row, exc.code, exc.message)
        except (aiosmtplib.SMTPException, OSError) as exc:
            await self._close()
            await store.mark_retry(
                self._pool, *ids, repr(exc), self._clock.now() + retry_delay(row["attempts"])
            )
        else:
            await store.mark_sent(self._pool, *ids, msg["Message-ID"], self._clock.now())
            log.info(
                "mail sent",
                extra={"advisory_id": delivery.advisory_id, "customer_id": delivery.customer_id},
            )

    async def _failed(self, row: asyncpg.Record, code: int, error: str) -> None:
        ids = (row["advisory_id"], row["customer_id"])
        if 400 <= code < 500:
            await store.mark_retry(
                self._pool,
                *ids,
                f"{code} {error}",
                self._clock.now() + retry_delay(row["attempts"]),
            )
        else:
            await store.mark_failed(self._pool, *ids, row["email"], f"{code} {error}")
            await self._close()

    async def _connection(self) -> aiosmtplib.SMTP:
        if self._smtp is None or not self._smtp.is_connected:
            smtp = aiosmtplib.SMTP(
                hostname=self._settings.smtp_host,
                port=self._settings.smtp_port,
                timeout=30,
                start_tls=False,
            )
            await smtp.connect()
            self._smtp = smtp
        return self._smtp

    async def _close(self) -> None:
        if self._smtp is not None:
            with contextlib.suppress(Exception):
                await self._smtp.quit()
            self._smtp = None


@contextlib.asynccontextmanager
async def sending(app: web.Application) -> AsyncIterator[None]:
    """A cleanup context running the sender in the background."""
    sender = Sender(app[POOL], app[SETTINGS], app[CLOCK])
    task = asyncio.create_task(sender.run(), name="sender")
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    await sender._close()
