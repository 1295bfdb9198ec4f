"""Contact data published by ingest on `customers.upserted`, read by the mailer only."""

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


CustomerEvent = CustomerUpserted
