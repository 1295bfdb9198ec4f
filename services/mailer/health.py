"""Provider health: each replica reads every mailbox provider's figures over the rolling window
from the ledger (shared by all replicas, so they agree) every `provider_check_s`, and holds
routine mail to a provider that pauses; disasters and recalls still go. A provider that pauses
or goes again is logged and shown in `anshin_mailer_provider_paused{provider, reason}`, on
which an alert fires (deploy/prometheus/alerts.yaml).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import asyncpg
import msgspec
from aiohttp import web

from services.mailer import mailboxes
from services.mailer.claim import Gate, domain
from services.mailer.mailboxes import Figures, Rules
from services.mailer.metrics import PROVIDER_MAILS, PROVIDER_PAUSED
from services.mailer.policy import urgent
from services.mailer.store import health
from shared import messages as m
from shared.bus import Subjects, reply
from shared.bus.reply import Answer
from shared.config import Settings
from shared.db import unit_of_work
from shared.http import POOL
from shared.service import CLOCK, SETTINGS

log = logging.getLogger(__name__)

LEAST_WAIT = timedelta(minutes=1)  # a held mail is looked at again no sooner


def rules_of(settings: Settings) -> Rules:
    """The settings' rules of provider health."""
    return Rules(
        complaint_rate=settings.provider_complaint_rate,
        policy_rate=settings.provider_policy_rate,
        min_sent=settings.provider_min_sent,
    )


async def figures(pool: asyncpg.Pool, now: datetime, settings: Settings) -> list[Figures]:
    """Every provider's figures over the window ending now, judged."""
    since = now - timedelta(hours=settings.provider_window_hours)
    async with unit_of_work(pool, transaction=False) as conn:
        rows = await health.figures_by_domain(conn, since)
    by_domain = {
        d: Figures(provider="", sent=s, hard=h, complaints=c, policy=p)
        for d, (s, h, c, p) in rows.items()
    }
    return mailboxes.table(by_domain, rules_of(settings))


class Health:
    """The providers whose routine mail pauses, as this replica last read them."""

    def __init__(self, pool: asyncpg.Pool, settings: Settings) -> None:
        self._pool, self._settings = pool, settings
        self.every = timedelta(seconds=settings.provider_check_s)
        self.paused: dict[str, str] = {}  # provider: why
        self._read_at: datetime | None = None

    async def refresh(self, now: datetime) -> None:
        """Read the figures again, if `every` has passed since the last time."""
        if self._read_at is not None and now - self._read_at < self.every:
            return
        table = await figures(self._pool, now, self._settings)
        self._read_at = now
        for f in table:
            for name in ("sent", "hard", "complaints", "policy"):
                PROVIDER_MAILS.labels(f.provider, name).set(getattr(f, name))
            self._heard(f)

    def _heard(self, f: Figures) -> None:
        before = self.paused.get(f.provider, "")
        if f.paused == before:
            return
        if before:
            PROVIDER_PAUSED.labels(f.provider, before).set(0)
            del self.paused[f.provider]
        if not f.paused:
            log.info("routine mail to a provider goes again", extra={"provider": f.provider})
            return
        self.paused[f.provider] = f.paused
        PROVIDER_PAUSED.labels(f.provider, f.paused).set(1)
        log.warning(
            "routine mail to a provider paused",
            extra={"provider": f.provider, "reason": f.paused, "sent": f.sent,
                   "complaints": f.complaints, "policy": f.policy},
        )  # fmt: skip

    def gate(self, address: str, priority: int, now: datetime) -> datetime | None:
        """None if the address's provider takes this mail now; else when to look again."""
        if urgent(priority) or not self.paused:
            return None
        if mailboxes.provider(domain(address)) not in self.paused:
            return None
        return now + max(self.every, LEAST_WAIT)

    def before(self, other: Gate) -> Gate:
        """This gate, then `other` (a path's breaker: its probes are spent only if it is asked)."""

        def both(address: str, priority: int, now: datetime) -> datetime | None:
            held = self.gate(address, priority, now)
            return held if held is not None else other(address, priority, now)

        return both


def _answerer(app: web.Application) -> Answer:
    pool, clock, settings = app[POOL], app[CLOCK], app[SETTINGS]

    async def answer(question: m.ProviderQuery) -> m.ProviderTable:
        table = await figures(pool, clock.now(), settings)
        return m.ProviderTable(
            window_hours=settings.provider_window_hours,
            complaint_rate=settings.provider_complaint_rate,
            policy_rate=settings.provider_policy_rate,
            min_sent=settings.provider_min_sent,
            items=[m.ProviderFigures(**msgspec.structs.asdict(f)) for f in table],
        )

    return answer


# The console's table (`mailer.providers`): read afresh from the ledger, whichever replica
# answers.
responder = reply.responder(Subjects.MAILER_PROVIDERS, "mailer", m.ProviderQuery, _answerer)
