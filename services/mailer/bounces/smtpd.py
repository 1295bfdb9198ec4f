"""The SMTP endpoint that takes the relay's returned mail (aiosmtpd), on its own port.

A recipient must be a genuine return path of this mailer (`bounce+<token>@<domain>`, one a
message), or the feedback address `bounce@<domain>` that a provider's feedback loop sends its
complaints to (the report must then quote a genuine return path: the original's Return-Path
or Original-Mail-From); anything else is refused at RCPT with 550, so a forged or mistyped
token never reaches the ledger. The message, at most ANSHIN_BOUNCE_MAX_BYTES (552 beyond), must be a
delivery status notification, a complaint or an auto-reply (taken and ignored); anything
else is refused with 554. 250 only once the report is committed; a database away answers
451, and the relay tries again later.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import AsyncIterator
from datetime import timedelta

import asyncpg
from aiohttp import web
from aiosmtpd.smtp import SMTP, Envelope, Session

from services.mailer.bounces import intake, reports, verp
from services.mailer.metrics import FEEDBACK
from shared.clock import Clock
from shared.config import Settings
from shared.http import POOL
from shared.mail.render import domain_of
from shared.service import CLOCK, SETTINGS

log = logging.getLogger(__name__)

INTAKE = "smtp"


def policy(settings: Settings) -> intake.Policy:
    """The soft-bounce rule of the settings."""
    window = timedelta(days=settings.bounce_soft_window_days)
    return intake.Policy(soft_limit=settings.bounce_soft_limit, soft_window=window)


def bounce_domain(settings: Settings) -> str:
    """The domain of every return path: ANSHIN_BOUNCE_DOMAIN, else the From domain."""
    return settings.bounce_domain or domain_of(settings.mail_from)


class Handler:
    """aiosmtpd's hooks: RCPT checks the token, DATA reads and applies the report."""

    def __init__(self, pool: asyncpg.Pool, settings: Settings, clock: Clock) -> None:
        self._pool, self._clock = pool, clock
        self._secret, self._domain = settings.secret_key, bounce_domain(settings)
        self._policy = policy(settings)

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        """Accept only a genuine return path or the feedback address, one a message."""
        plain = address.strip("<>").lower() == verp.feedback_address(self._domain).lower()
        if not plain and verp.parse(self._secret, self._domain, address) is None:
            FEEDBACK.labels(INTAKE, "refused").inc()
            return "550 5.1.1 not a return path of this sender"
        if envelope.rcpt_tos:
            return "452 4.5.3 one return path a message"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        """Read the report and apply it; 250 once committed."""
        raw = envelope.original_content or b""
        try:
            report = reports.read(raw)
        except Exception as exc:  # Unreadable, or a parser choking on hostile input
            FEEDBACK.labels(INTAKE, "refused").inc()
            why = exc if isinstance(exc, reports.Unreadable) else "a message that cannot be parsed"
            return f"554 5.6.0 {why}"
        if report is None:
            FEEDBACK.labels(INTAKE, "accepted").inc()
            return "250 2.0.0 auto-reply ignored"
        # A return path names its mail; a report to the feedback address must quote one.
        named = verp.parse(self._secret, self._domain, envelope.rcpt_tos[0]) or verp.enclosed(
            self._secret, self._domain, raw
        )
        if named is None:
            FEEDBACK.labels(INTAKE, "refused").inc()
            return "554 5.6.0 the report quotes no return path of this sender"
        # The same returned mail to the same return path is one report, however often sent.
        event_id = "smtp:" + hashlib.sha256(named.ref + named.address + raw).hexdigest()
        try:
            outcome = await intake.take(
                self._pool,
                report,
                intake=INTAKE,
                event_id=event_id,
                now=self._clock.now(),
                policy=self._policy,
                named=named,
                secret=self._secret,
            )
        except Exception:
            log.warning("could not take returned mail; the relay will retry", exc_info=True)
            return "451 4.3.0 try again later"
        return f"250 2.0.0 {report.kind.value} report {outcome.value}"


async def start(
    pool: asyncpg.Pool, settings: Settings, clock: Clock, host: str, port: int
) -> asyncio.Server:
    """Listen for returned mail on host:port."""
    handler = Handler(pool, settings, clock)
    loop = asyncio.get_running_loop()
    return await loop.create_server(
        lambda: SMTP(
            handler,
            hostname=bounce_domain(settings),
            ident="Anshin returned mail",
            data_size_limit=settings.bounce_max_bytes,
            timeout=60,
        ),
        host,
        port,
    )


@contextlib.asynccontextmanager
async def receiving(app: web.Application) -> AsyncIterator[None]:
    """A cleanup context running the endpoint where ANSHIN_BOUNCE_SMTP_PORT is set."""
    settings = app[SETTINGS]
    if not settings.bounce_smtp_port:
        yield
        return
    server = await start(
        app[POOL], settings, app[CLOCK], settings.bounce_smtp_host, settings.bounce_smtp_port
    )
    log.info("taking returned mail", extra={"port": settings.bounce_smtp_port})
    try:
        yield
    finally:
        server.close()
        await server.wait_closed()
