"""Request-reply questions between services: audience, reach, catalog."""

from __future__ import annotations

import msgspec

from shared.messages.advisories import AdvisoryRule
from shared.messages.base import Message


class AudienceRequest(Message, tag="audience.request"):
    """How many customers would an advisory reach if it were published now?"""

    rule: AdvisoryRule
    v: int = 1


class AudienceEstimate(Message, tag="audience.estimate"):
    """The matcher's answer to an AudienceRequest."""

    customers: int
    v: int = 1


class ReportRequest(Message, tag="report.request"):
    """How far has an advisory reached?"""

    advisory_id: str
    v: int = 1


class DayCount(msgspec.Struct, kw_only=True):
    """Deliveries of one day by state."""

    day: str
    counts: dict[str, int]


class ReachReport(Message, tag="report.reach"):
    """The mailer's answer to a ReportRequest: deliveries by state, overall and by day."""

    advisory_id: str
    counts: dict[str, int]
    by_day: list[DayCount] = []
    v: int = 1


class CatalogLookup(Message, tag="catalog.lookup"):
    """Which safety categories has a product?"""

    sku: str
    v: int = 1


class CatalogEntry(Message, tag="catalog.entry"):
    """Ingest's answer to a CatalogLookup."""

    sku: str
    gtin: str | None = None
    title: str = ""
    categories: list[str] = []
    found: bool = False
    v: int = 1
