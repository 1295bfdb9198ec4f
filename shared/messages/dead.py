"""Notices on the dead-letter stream of what a service could not put on the bus."""

from __future__ import annotations

from datetime import datetime

from shared.messages.base import Message


class OutboxDead(Message, tag="outbox.dead"):
    """An outbox row the bus refused, set aside in its service's `outbox_dead` table.

    Only what operators need to find it: never the payload, which may be the reason.
    """

    schema: str
    outbox_id: int
    subject: str
    msg_id: str
    size: int
    reason: str
    created_at: datetime
    dead_at: datetime
    v: int = 1
