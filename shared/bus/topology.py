"""Every stream, subject and durable pull consumer of Anshin, declared once."""

from __future__ import annotations

import hashlib

import msgspec


class Subjects:
    """Subject names; services never spell a subject themselves."""

    ORDERS_PLACED = "orders.placed"
    ORDERS_BATCH = "orders.batch"
    ORDERS_CANCELLED = "orders.cancelled"
    ORDERS_RETURNED = "orders.returned"
    CUSTOMERS_UPSERTED = "customers.upserted"
    CUSTOMERS_BATCH = "customers.batch"
    ADVISORIES_PUBLISHED = "advisories.published"
    ADVISORIES_WITHDRAWN = "advisories.withdrawn"
    DISASTERS_DECLARED = "disasters.declared"
    DELIVERIES_REQUESTED = "deliveries.requested"
    MATCHER_FANOUT = "matcher.fanout"
    # request-reply (core NATS, not stored)
    MATCHER_AUDIENCE = "matcher.audience"
    MAILER_REPORT = "mailer.report"
    # the console's page of suppressed addresses: a listing (addresses masked) or one address
    MAILER_SUPPRESSIONS = "mailer.suppressions"
    MAILER_SUPPRESSION_LIFT = "mailer.suppression.lift"
    INGEST_CATALOG_LOOKUP = "ingest.catalog.lookup"

    @staticmethod
    def customer_upserted(customer_id: str) -> str:
        """customers.upserted.<hash of the id>: the stream keeps one message per subject, so
        the latest contact data of each customer and never a history of addresses."""
        digest = hashlib.blake2b(customer_id.encode(), digest_size=12).hexdigest()
        return f"{Subjects.CUSTOMERS_UPSERTED}.{digest}"

    @staticmethod
    def customer_batch(digest: str) -> str:
        """customers.batch.<digest of its customers' ids>: a subject of its own per batch, so
        that the limit of one message per subject never drops a batch not yet taken in."""
        return f"{Subjects.CUSTOMERS_BATCH}.{digest}"


DEAD_LETTER_SUBJECT = "dead.{consumer}"


class StreamSpec(msgspec.Struct, frozen=True, kw_only=True):
    """A JetStream stream: file storage, a duplicate window, its subjects."""

    name: str
    subjects: list[str]
    work_queue: bool = False
    duplicate_window_s: float = 120.0
    max_age_days: float = 0.0
    # Kept only until every consumer has acknowledged it (interest retention).
    interest: bool = False
    max_msgs_per_subject: int = 0  # 0: no limit


class ConsumerSpec(msgspec.Struct, frozen=True, kw_only=True):
    """A durable pull consumer that every replica of its service shares."""

    durable: str
    stream: str
    filter_subjects: list[str]
    ack_wait_s: float = 30.0
    max_ack_pending: int = 20_000
    fetch_batch: int = 100


STREAMS: list[StreamSpec] = [
    StreamSpec(name="ORDERS", subjects=["orders.>"]),
    # Addresses live in the mailer's table: the stream holds one only until the mailer has
    # taken it in, the latest per customer, and a week at most however long the mailer is down.
    StreamSpec(
        name="CUSTOMERS",
        subjects=["customers.>"],
        interest=True,
        max_msgs_per_subject=1,
        max_age_days=7.0,
    ),
    StreamSpec(name="ADVISORIES", subjects=["advisories.>"]),
    StreamSpec(name="DISASTERS", subjects=["disasters.>"]),
    StreamSpec(name="DELIVERIES", subjects=["deliveries.>"]),
    StreamSpec(name="FANOUT", subjects=["matcher.fanout"], work_queue=True),
    # Dead letters are kept for operators to inspect and replay.
    StreamSpec(name="DEAD", subjects=["dead.>"], max_age_days=30.0),
]

CONSUMERS: dict[str, ConsumerSpec] = {
    spec.durable: spec
    for spec in [
        ConsumerSpec(durable="matcher-orders", stream="ORDERS", filter_subjects=["orders.>"]),
        ConsumerSpec(
            durable="matcher-advisories", stream="ADVISORIES", filter_subjects=["advisories.>"]
        ),
        ConsumerSpec(
            durable="matcher-disasters", stream="DISASTERS", filter_subjects=["disasters.>"]
        ),
        ConsumerSpec(
            durable="matcher-fanout",
            stream="FANOUT",
            filter_subjects=["matcher.fanout"],
            fetch_batch=1,
            ack_wait_s=60.0,
        ),
        ConsumerSpec(
            durable="mailer-deliveries",
            stream="DELIVERIES",
            filter_subjects=["deliveries.>"],
            fetch_batch=10,
            ack_wait_s=120.0,
        ),
        ConsumerSpec(
            durable="mailer-customers", stream="CUSTOMERS", filter_subjects=["customers.>"]
        ),
        ConsumerSpec(
            durable="mailer-advisories", stream="ADVISORIES", filter_subjects=["advisories.>"]
        ),
    ]
}
