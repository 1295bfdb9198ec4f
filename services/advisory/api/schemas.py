"""The shapes of the advisories API's answers; /openapi.json is generated from them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec

from services.advisory.lifecycle import State
from services.advisory.peers.funnel import Funnel, funnel_of
from shared.messages import AdvisoryRule, Kind


class FieldProblem(msgspec.Struct, kw_only=True):
    """Which field is wrong, and how."""

    field: str
    problem: str


class ErrorOut(msgspec.Struct, kw_only=True):
    """Every error answer."""

    error: str
    details: list[FieldProblem]


class AgencyOut(msgspec.Struct, kw_only=True):
    """The calling agency as Anshin knows it (never its key)."""

    id: str
    name: str
    timezone: str


class AgencyPatch(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """An agency's own settings: its time zone, an IANA name such as Asia/Tokyo."""

    timezone: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]


class Created(msgspec.Struct, kw_only=True):
    """The answer to a new advisory, an amendment or a withdrawal."""

    id: str
    state: State
    version: int


class AdvisoryOut(msgspec.Struct, kw_only=True):
    """One advisory as its agency and operators see it."""

    id: str
    agency_id: str
    agency_name: str
    version: int
    state: State
    kind: Kind
    rule: AdvisoryRule
    title: dict[str, str]
    body: dict[str, str]
    source_url: str
    embargo_until: datetime
    expires_at: datetime | None
    created_at: datetime
    published_at: datetime | None
    withdrawn_at: datetime | None
    deliver_by: datetime | None = None
    # The latest correction made public, and one still waiting for its own embargo.
    corrected_at: datetime | None = None
    pending_until: datetime | None = None


class Withdrawal(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A withdrawal's options (the body may be empty)."""

    # Once published: a short withdrawal notice to everyone who received it.
    notify_recipients: bool = False


class AdvisoryList(msgspec.Struct, kw_only=True):
    """The advisories a caller may see, newest first."""

    advisories: list[AdvisoryOut]


class Preview(msgspec.Struct, kw_only=True):
    """The mail a customer would receive, made by the renderer of every mail."""

    advisory_id: str
    lang: str
    subject: str
    text: str
    html: str


class Audience(msgspec.Struct, kw_only=True):
    """The matcher's estimate of the customers an advisory would reach now."""

    advisory_id: str
    customers: int


class DayCounts(msgspec.Struct, kw_only=True):
    """Deliveries of one day by state."""

    day: str
    counts: dict[str, int]


class Waiting(msgspec.Struct, kw_only=True):
    """Deliveries held back for one reason, until when, and the same in plain words."""

    reason: str  # quiet (hours), cap (of routine mail), retry, paused (a relay's path)
    until: datetime
    timezone: str  # the customers' zone for quiet hours, else UTC
    deliveries: int
    says: str  # "waiting: quiet hours until 08:00 Asia/Tokyo (3 deliveries)"


class Deadline(msgspec.Struct, kw_only=True):
    """Whether an advisory's mail can all go out by its deliver_by at the configured rates."""

    deliver_by: datetime
    projected_finish: datetime  # now (or the embargo's end) plus what waits at the rates
    met: bool
    waiting: int  # the mails still to send: the ledger's, or the audience estimate's
    estimate: bool  # before publication: the matcher's estimate, its domains not yet known
    send_rate_per_second: float  # configured, overall; 0: no limit
    send_rate_per_domain: float  # configured, per recipient domain; 0: no limit
    # Not met: the rates that would meet it (0: that limit is not what makes it late; null:
    # the deadline has passed, no rate meets it).
    needed_rate_per_second: float | None = None
    needed_rate_per_domain: float | None = None
    slowest_domain: str = ""  # the recipient domain with the most mail waiting
    says: str = ""  # the same in plain words


class Report(msgspec.Struct, kw_only=True):
    """How far an advisory has reached: matched, sent, waiting, suppressed, failed; and how
    effective it was: bought, contactable, delivered, read, acted, each explained."""

    advisory_id: str
    counts: dict[str, int]
    by_day: list[DayCounts]
    waiting: list[Waiting] = []  # why the waiting deliveries wait
    # A disaster playbook: customers inside a disaster whom it held back because it reached
    # them for another disaster of the same hazard shortly before (aftershocks), by disaster.
    folded: int = 0
    folded_by_disaster: dict[str, int] = {}
    funnel: Funnel = msgspec.field(default_factory=lambda: funnel_of({}))
    deadline: Deadline | None = None  # only for an advisory with deliver_by
