"""What the mailer renders: one advisory for one customer."""

from __future__ import annotations

from typing import Any

import msgspec


class Delivery(msgspec.Struct, kw_only=True):
    """Everything needed to render one advisory for one customer."""

    advisory_id: str
    customer_id: str
    email: str
    name: str
    locale: str
    agency_name: str
    title: dict[str, str]
    body: dict[str, str]
    source_url: str
    purchases: list[dict[str, Any]]
    kind: str = ""
    reason: str = ""
    page_url: str = ""
    event_id: str = ""  # the declared disaster of a playbook's delivery; '' for the rest
    timezone: str = ""  # the customer's IANA zone, for the dates they read; '' for UTC
    # The delivery's own signed answers ("I have checked my product", "I no longer have it").
    checked_url: str = ""
    gone_url: str = ""
    # What the mail tells of the advice: '' the advice itself, 'correction' its corrected
    # text to one who received it before, 'withdrawal' that it was withdrawn.
    notice: str = ""
