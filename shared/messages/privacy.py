"""A customer's rights over their data: erasure travels as a fact, access as questions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from shared.messages.base import Message

# Who confirms an erasure: each service for its tables, and ingest for the CUSTOMERS stream.
ERASERS = ("ingest", "matcher", "mailer", "customers_stream")


class ErasureRequested(Message, tag="erasure.requested"):
    """Erase everything held for these customer ids (the asked one and those the shop links
    to it by e-mail address); ingest publishes it through its outbox."""

    request_id: str
    customer_ids: list[str]
    requested_at: datetime
    v: int = 1


class ErasureConfirmed(Message, tag="erasure.confirmed"):
    """One eraser's word that it holds nothing more of the request's customers: what it
    erased (counts by kind, all zero for an unknown customer) and when."""

    request_id: str
    service: str
    confirmed_at: datetime
    erased: dict[str, int] = {}
    v: int = 1


PrivacyEvent = ErasureRequested | ErasureConfirmed


class ExportRequest(Message, tag="export.request"):
    """What do you hold of these customers? (request-reply, operators' access requests)"""

    customer_ids: list[str]
    v: int = 1


class ExportPart(Message, tag="export.part"):
    """A service's part of a customer's export: named sections of plain JSON values."""

    service: str
    sections: dict[str, Any] = msgspec.field(default_factory=dict)
    v: int = 1
