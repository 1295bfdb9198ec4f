"""Ingest's retention rules (docs/privacy.md)."""

from __future__ import annotations

from aiohttp import web

from services.ingest.store import retention as store
from shared.retention import Rule, days, outbox_rules
from shared.service import SETTINGS


def rules(app: web.Application) -> list[Rule]:
    """Orders once published, then customers left without orders, refused outbox rows."""
    s = app[SETTINGS]
    keep = days(s.ingest_order_retention_days)
    return [
        Rule("orders", keep, store.prune_orders),
        Rule("customers", keep, store.prune_customers),
        *outbox_rules(app),
    ]
