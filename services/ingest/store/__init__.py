"""Ingest's SQL: the catalog, accepted orders and their events (outbox in the same transaction)."""

from services.ingest.store.audit import order_audit
from services.ingest.store.catalog import catalog_categories, lookup, upsert_catalog
from services.ingest.store.keys import create_key, list_keys, rotate_key, writer_by_key_hash
from services.ingest.store.order_events import Known, Resolved, known_orders
from services.ingest.store.order_events import record as record_events
from services.ingest.store.orders import accept_orders, conflicting, customers_by_email

__all__ = [
    "Known",
    "Resolved",
    "accept_orders",
    "catalog_categories",
    "conflicting",
    "create_key",
    "customers_by_email",
    "known_orders",
    "list_keys",
    "lookup",
    "order_audit",
    "record_events",
    "rotate_key",
    "upsert_catalog",
    "writer_by_key_hash",
]
