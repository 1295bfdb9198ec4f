"""Contact data published by ingest on `customers.upserted` and `customers.batch`, read by the
mailer only."""

from __future__ import annotations

from datetime import datetime

from shared.messages.base import Message


class CustomerUpserted(Message, tag="customer.upserted"):
    """The latest contact data of a customer."""

    customer_id: str
    email: str
    locale: str = "en"
    timezone: str = "UTC"
    name: str = ""
    updated_at: datetime | None = None
    v: int = 1


class CustomerBatch(Message, tag="customer.batch"):
    """Many customers' contact data in one message, as a batch of orders or a backfill brings it.

    Each entry is the same fact as its own `customers.upserted` message would be: the mailer
    keeps the newest contact data of each customer, so a redelivered batch is harmless.
    """

    customers: list[CustomerUpserted]
    v: int = 1


CustomerEvent = CustomerUpserted | CustomerBatch
