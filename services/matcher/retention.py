"""The matcher's retention rules (docs/privacy.md)."""

from __future__ import annotations

from aiohttp import web

from services.matcher.store import retention as store
from shared.retention import Rule, days, outbox_rules
from shared.service import SETTINGS


def rules(app: web.Application) -> list[Rule]:
    """Purchases and uncategorized lines after matcher_purchase_retention_days, then the voids
    of orders with no line left; refused outbox rows."""
    s = app[SETTINGS]
    keep = days(s.matcher_purchase_retention_days)
    return [
        Rule("purchases", keep, store.prune_purchases),
        Rule("uncategorized_lines", keep, store.prune_uncategorized),
        Rule("voided", keep, store.prune_voids),
        *outbox_rules(app),
    ]
