"""The mailer's retention rules (docs/privacy.md)."""

from __future__ import annotations

from datetime import datetime, timedelta

from aiohttp import web

from services.mailer import privacy
from services.mailer.store import retention as store
from shared.bus import STREAMS
from shared.db import Conn
from shared.retention import Rule, days
from shared.service import SETTINGS

# An erased customer's hash only matters while contact data published before the erasure may
# still be on the CUSTOMERS stream: twice the stream's longest keep.
TOMBSTONE_DAYS = 2 * int(next(s.max_age_days for s in STREAMS if s.name == "CUSTOMERS"))


def rules(app: web.Application) -> list[Rule]:
    """Ledger rows under pseudonyms after mailer_ledger_pseudonym_days; old tombstones and
    soft bounces past their window."""
    key = privacy.erasure_key(app[SETTINGS].secret_key)

    async def pseudonymize(conn: Conn, cutoff: datetime, batch: int) -> int:
        ids = await store.customers_before(conn, cutoff, batch)
        names = [privacy.pseudonym(key, c, "expired") for c in ids]
        # Each customer found has a row at least: a full batch of them counts a full batch.
        return await store.pseudonymize(conn, cutoff, ids, names)

    return [
        Rule("ledger_pseudonyms", days(app[SETTINGS].mailer_ledger_pseudonym_days), pseudonymize),
        Rule("erased_customers", days(TOMBSTONE_DAYS), store.prune_tombstones),
        # A soft bounce counts only within its window; the address it names need not stay.
        Rule(
            "soft_bounces",
            timedelta(days=app[SETTINGS].bounce_soft_window_days),
            store.prune_soft_bounces,
        ),
    ]
