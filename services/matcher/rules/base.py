"""What every rule kind answers to, and what the kinds share: purchases, buckets, outcomes."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, ClassVar, Generic, NamedTuple, TypeVar

import msgspec

from services.matcher import store
from services.matcher.store.audience import Held as Held  # read by the store, named for the rules
from shared import messages as m
from shared.db import Conn

if TYPE_CHECKING:
    from services.matcher import deliveries
    from services.matcher.audience import Where

# Customers hash into this many buckets (see migration 003); shards take contiguous ranges.
BUCKETS = 1024


R = TypeVar("R", bound=m.AdvisoryRule)


class Line(NamedTuple):
    """A fresh order line, as a rule judges it when the order arrives."""

    order: m.OrderPlaced
    line: m.OrderLine
    now: datetime
    late: timedelta  # how long after its anniversary a long-term delivery is still sent


class Triggers(NamedTuple):
    """What in an order line can trigger a rule: its categories, its SKU or GTIN-14."""

    categories: frozenset[str] = frozenset()
    products: frozenset[str] = frozenset()


class Send(NamedTuple):
    """The line's customer receives the advisory now."""

    recipient: m.Recipient


class Schedule(NamedTuple):
    """The line goes on the durable schedule, due at `at`."""

    at: datetime


class Check(NamedTuple):
    """The customer's history decides (with every such customer at once, `KindRule.check`)."""

    customer_id: str


Outcome = Send | Schedule | Check | None


class Declared(msgspec.Struct, kw_only=True):
    """Where and when a disaster was declared, as a disaster job keeps it (its params).

    Jobs recorded before places were read hold areas and time only: the rest has defaults.
    """

    areas: list[m.Area]
    occurred_at: datetime
    places: list[m.Codes] = []
    magnitude: float | None = None
    hazard: str = ""


class Job(NamedTuple):
    """A slice of an audience to reach: the advisory, the disaster event if any, the time."""

    advisory_id: str
    event_id: str
    now: datetime
    # A disaster's hazard, and how long a playbook already sent for another disaster of it
    # holds the customer back (aftershocks).
    hazard: str = ""
    fold: timedelta = timedelta(0)
    shard: tuple[int, int] = (0, 1)  # (shard, shards): the slice of customers it reaches


class KindRule(Generic[R]):
    """What one rule kind means to the matcher; each kind's module has one subclass."""

    priority: ClassVar[m.Priority]
    # A standing playbook waits for a declared disaster instead of reaching out at publication.
    at_publication: ClassVar[bool] = True

    def __init__(self, rule: R) -> None:
        self.rule = rule
        self.kind: m.Kind = rule.kind

    def triggers(self) -> Triggers:
        """What in an order line can trigger the rule; nothing by default."""
        return Triggers()

    def on_line(self, line: Line) -> Outcome:
        """What a fresh order line, already found by `triggers`, calls for."""
        return None

    def audience(self, at: datetime, late: timedelta, declared: Declared | None = None) -> Where:
        """Whom the rule reaches at `at` (a disaster's time and where, when one is declared)."""
        raise NotImplementedError

    async def reach(self, conn: Conn, job: Job, w: Where) -> deliveries.Requested:
        """Request (or schedule) deliveries for everyone under `w` not reached yet."""
        raise NotImplementedError

    async def estimate(self, conn: Conn, w: Where, now: datetime) -> int:
        """How many customers `w` reaches."""
        return await store.count(conn, w)

    async def check(self, conn: Conn, customers: Iterable[str], now: datetime) -> list[m.Recipient]:
        """The recipients among customers whose lines answered `Check`; none by default."""
        return []


def add_years(at: datetime, years: int) -> datetime:
    """The same calendar day `years` later; 29 February becomes 28 February, as in PostgreSQL."""
    try:
        return at.replace(year=at.year + years)
    except ValueError:
        return at.replace(year=at.year + years, day=28)


def bucket_of(customer_id: str) -> int:
    """A customer's bucket, as the SQL function customer_bucket computes it."""
    return int(hashlib.md5(customer_id.encode(), usedforsecurity=False).hexdigest()[:4], 16) & (
        BUCKETS - 1
    )


def bucket_range(shard: int, shards: int) -> tuple[int, int]:
    """The half-open range of customer buckets that shard `shard` of `shards` covers."""
    return shard * BUCKETS // shards, (shard + 1) * BUCKETS // shards


def purchase_of(order: m.OrderPlaced, line: m.OrderLine) -> m.Purchase:
    """The purchase a customer is told about."""
    return m.Purchase(
        channel=order.channel,
        order_id=order.order_id,
        sku=line.sku,
        title=line.title,
        placed_at=order.placed_at,
    )


def recipient(customer_id: str, reason: str, purchase: m.Purchase) -> m.Recipient:
    """A recipient told about one purchase."""
    return m.Recipient(customer_id=customer_id, reason=reason, purchases=[purchase])
