"""Delivery requests from the matcher to the mailer, and the matcher's own fan-out shards."""

from __future__ import annotations

from datetime import datetime
from enum import IntEnum

import msgspec

from shared.messages.base import Message


class Priority(IntEnum):
    """Higher goes first; disaster and recall bypass caps and quiet hours."""

    LONG_TERM = 10
    COMBINATION = 20
    SHORT_TERM = 30
    RECALL = 80
    DISASTER = 90


class Purchase(msgspec.Struct, kw_only=True):
    """The purchase a delivery concerns, shown to the customer."""

    channel: str
    order_id: str
    sku: str
    title: str = ""
    placed_at: datetime | None = None


class Recipient(msgspec.Struct, kw_only=True):
    """One customer of a delivery batch and why they receive it."""

    customer_id: str
    reason: str
    purchases: list[Purchase] = []


class DeliveryBatch(Message, tag="deliveries.requested"):
    """Many recipients of one advisory; the mailer's ledger key is (advisory, event, customer)."""

    batch_id: str
    advisory_id: str
    kind: str
    priority: int
    requested_at: datetime
    recipients: list[Recipient]
    v: int = 1
    # The declared disaster that triggered a playbook ("" otherwise): one playbook, many events.
    event_id: str = ""


DeliveryEvent = DeliveryBatch


class FanoutShard(Message, tag="matcher.fanout"):
    """One slice of a large audience, evaluated by whichever matcher replica pulls it."""

    job_id: str
    advisory_id: str
    shard: int
    shards: int
    requested_at: datetime
    event_id: str = ""
    v: int = 1
