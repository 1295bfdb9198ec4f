"""Request-reply questions between services: audience, reach, catalog, suppressions."""

from __future__ import annotations

from datetime import datetime

import msgspec

from shared.messages.advisories import Area, Codes
from shared.messages.base import Message
from shared.messages.rules import AdvisoryRule


class AudienceRequest(Message, tag="audience.request"):
    """How many customers would an advisory reach if it were published now?"""

    rule: AdvisoryRule
    v: int = 1


class AudienceEstimate(Message, tag="audience.estimate"):
    """The matcher's answer to an AudienceRequest."""

    customers: int
    v: int = 1


class FoldRequest(Message, tag="folds.request"):
    """How many customers did a disaster playbook skip because of an earlier disaster?"""

    advisory_id: str
    v: int = 1


class FoldReport(Message, tag="folds.report"):
    """The matcher's answer to a FoldRequest: customers held back, in all and by disaster."""

    advisory_id: str
    folded: int
    by_event: dict[str, int] = {}
    v: int = 1


class DrillRequest(Message, tag="drill.request"):
    """Whom would these playbooks reach in this disaster? (a dry run: nothing is sent)"""

    advisory_ids: list[str]
    occurred_at: datetime
    areas: list[Area]
    places: list[Codes] = []
    magnitude: float | None = None
    v: int = 1


class PlaybookAudience(msgspec.Struct, kw_only=True):
    """One playbook's audience in a disaster: in all, and by area (`areas[i]`, or a place
    as `scheme:code`); `known` is False where the matcher has no such live playbook."""

    advisory_id: str
    customers: int = 0
    by_area: dict[str, int] = {}
    known: bool = True


class PlaceAudience(msgspec.Struct, kw_only=True):
    """A declared place (`scheme:code`) with the customers of any of the playbooks inside it
    (each counted once), and the centre of their coarse coordinates (None without any)."""

    place: str
    customers: int
    lat: float | None = None
    lon: float | None = None


class DrillAudience(Message, tag="drill.audience"):
    """The matcher's answer to a DrillRequest; `places`: every place with customers of any
    playbook at or above its conditions, for a map of where they are."""

    playbooks: list[PlaybookAudience]
    v: int = 1
    places: list[PlaceAudience] = []


class ReportRequest(Message, tag="report.request"):
    """How far has an advisory reached?"""

    advisory_id: str
    v: int = 1


class DayCount(msgspec.Struct, kw_only=True):
    """Deliveries of one day by state."""

    day: str
    counts: dict[str, int]


class Wait(msgspec.Struct, kw_only=True):
    """Deliveries held back for one reason, and the earliest time they are due again."""

    reason: str  # quiet (hours), cap (of routine mail), retry (a relay's "try later"), paused
    until: datetime
    timezone: str = "UTC"  # quiet hours are the customers' own: `until` is read in this zone
    deliveries: int


class ReachReport(Message, tag="report.reach"):
    """The mailer's answer to a ReportRequest: deliveries by state, overall and by day."""

    advisory_id: str
    counts: dict[str, int]
    by_day: list[DayCount] = []
    waits: list[Wait] = []  # why the deferred deliveries wait, and until when
    # bought, contactable, delivered, read, acted (acted_checked, acted_gone): rows counted
    funnel: dict[str, int] = {}
    v: int = 1
    # of counts["suppressed"]: not sent because the address turned this family of advice off
    declined: int = 0
    # of the deliveries still on their way (queued, deferred, sending): how many per
    # recipient domain, which the per-domain send rate applies to (deliver_by's projection)
    waiting_by_domain: dict[str, int] = {}


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


class SuppressionQuery(Message, tag="suppressions.query"):
    """Which addresses are suppressed: the latest (masked), or the one `address` (in full)."""

    address: str = ""
    limit: int = 50
    v: int = 1


class Suppression(msgspec.Struct, kw_only=True):
    """One suppressed address, why and since when; masked in a listing (`h***@example.jp`)."""

    address: str
    reason: str
    since: datetime
    detail: str = ""  # the relay's reply to a bounce


class SuppressionList(Message, tag="suppressions.list"):
    """The mailer's answer to a SuppressionQuery; `problem` says why the address was not read."""

    total: int
    by_reason: dict[str, int]
    items: list[Suppression] = []
    problem: str = ""
    v: int = 1


class SuppressionLift(Message, tag="suppressions.lift"):
    """Mail this address again (a bounce only); with `resend`, queue again what it stopped."""

    address: str
    resend: bool = True
    v: int = 1


class SuppressionLifted(Message, tag="suppressions.lifted"):
    """The mailer's answer to a SuppressionLift; `problem` says why nothing was lifted."""

    lifted: bool
    reason: str = ""  # why the address had been suppressed
    requeued: int = 0
    problem: str = ""
    v: int = 1


class ProviderQuery(Message, tag="providers.query"):
    """How is each mailbox provider taking our mail, over the window of provider health?"""

    v: int = 1


class ProviderFigures(msgspec.Struct, kw_only=True):
    """One mailbox provider over the window, and why its routine mail pauses ('' if it goes)."""

    provider: str
    sent: int
    hard: int
    complaints: int
    policy: int  # refusals for policy (5.7.x)
    paused: str = ""  # 'complaints' or 'policy'


class ProviderTable(Message, tag="providers.table"):
    """The mailer's answer to a ProviderQuery, with the settings it judged by."""

    window_hours: float
    complaint_rate: float
    policy_rate: float
    min_sent: int
    items: list[ProviderFigures] = []
    v: int = 1
