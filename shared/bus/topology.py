"""Every stream, subject and durable pull consumer, declared once (their types: channels.py)."""

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
    # a customer's erasure: ingest's request, then each eraser's confirmation (docs/privacy.md)
    ERASURE_REQUESTED = "privacy.erasure.requested"
    ERASURE_CONFIRMED = "privacy.erasure.confirmed"
    # request-reply (core NATS, not stored)
    MATCHER_AUDIENCE = "matcher.audience"
    # a disaster playbook's customers held back by an earlier disaster (aftershocks)
    MATCHER_FOLDS = "matcher.folds"
    # a disaster's audience per playbook and area, for a dry run (drills)
    MATCHER_DRILL = "matcher.drill"
    MAILER_REPORT = "mailer.report"
    # an advisory's evidence: every event of its deliveries, a page per question
    MAILER_EVIDENCE = "mailer.evidence"
    # the console's page of suppressed addresses: a listing (addresses masked) or one address
    MAILER_SUPPRESSIONS = "mailer.suppressions"
    MAILER_SUPPRESSION_LIFT = "mailer.suppression.lift"
    # the console's table of mailbox providers' health
    MAILER_PROVIDERS = "mailer.providers"
    INGEST_CATALOG_LOOKUP = "ingest.catalog.lookup"
    # a customer's access request: what each service holds of them
    MATCHER_EXPORT = "matcher.export"
    MAILER_EXPORT = "mailer.export"

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
DEAD_LETTER_STREAM = "DEAD"
EXHAUSTED_STREAM = "EXHAUSTED"
# A notice of an outbox row that the bus refused (too large): its id, subject, size and the
# reason, never its payload, which stays in the service's table `outbox_dead`.
OUTBOX_DEAD_SUBJECT = "dead.outbox.{schema}"
# The server's advisory when a message has been delivered max_deliver times unsettled.
MAX_DELIVERIES_SUBJECT = "$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.{stream}.{consumer}"


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
    # Unsettled this long after its delivery (or the last in-progress ack), a message is
    # delivered again: the time a dead replica's work waits before another takes it up.
    ack_wait_s: float = 30.0
    max_ack_pending: int = 20_000
    fetch_batch: int = 100
    # A handler still running after this long is given up on and its message retried:
    # in-progress acks would otherwise let a hung one hold its message for ever.
    max_work_s: float = 300.0


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
    # Erasure requests name customers: kept only until every eraser has taken them in, and
    # a month at most (an eraser down that long is an incident; ingest still knows the request).
    StreamSpec(name="PRIVACY", subjects=["privacy.>"], interest=True, max_age_days=30.0),
    # Dead letters are kept for operators to inspect and replay.
    StreamSpec(name=DEAD_LETTER_STREAM, subjects=["dead.>"], max_age_days=30.0),
    # The server's word that a message ran out of deliveries unsettled (timed out each
    # time): kept until a replica of its service copies the message to DEAD.
    StreamSpec(
        name=EXHAUSTED_STREAM,
        subjects=[MAX_DELIVERIES_SUBJECT.format(stream="*", consumer="*")],
        max_age_days=7.0,
    ),
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
        # A shard in progress is kept alive by in-progress acks (every third of ack_wait):
        # a killed replica's shard is taken up by another after 10 s at most.
        ConsumerSpec(
            durable="matcher-fanout",
            stream="FANOUT",
            filter_subjects=["matcher.fanout"],
            fetch_batch=1,
            ack_wait_s=10.0,
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
        # A disaster's cancellation cancels the mail still waiting because of it.
        ConsumerSpec(
            durable="mailer-disasters", stream="DISASTERS", filter_subjects=["disasters.>"]
        ),
        # Erasure: each eraser takes in the request; ingest records every confirmation. The
        # mailer's waits for mail in flight (up to its lease), so it gets longer to answer.
        ConsumerSpec(
            durable="ingest-erasure",
            stream="PRIVACY",
            filter_subjects=[Subjects.ERASURE_REQUESTED],
            fetch_batch=10,
        ),
        ConsumerSpec(
            durable="ingest-erasure-confirmations",
            stream="PRIVACY",
            filter_subjects=[Subjects.ERASURE_CONFIRMED],
        ),
        ConsumerSpec(
            durable="matcher-erasure",
            stream="PRIVACY",
            filter_subjects=[Subjects.ERASURE_REQUESTED],
            fetch_batch=10,
        ),
        ConsumerSpec(
            durable="mailer-erasure",
            stream="PRIVACY",
            filter_subjects=[Subjects.ERASURE_REQUESTED],
            fetch_batch=1,
            ack_wait_s=120.0,
        ),
    ]
}


def _exhausted(service: str) -> ConsumerSpec:
    """The consumer of a service's MAX_DELIVERIES advisories, one subject per consumer."""
    own = [c for c in CONSUMERS.values() if c.durable.startswith(f"{service}-")]
    return ConsumerSpec(
        durable=f"{service}-exhausted",
        stream=EXHAUSTED_STREAM,
        filter_subjects=[
            MAX_DELIVERIES_SUBJECT.format(stream=c.stream, consumer=c.durable) for c in own
        ],
    )


# Each durable's consumer of its MAX_DELIVERIES advisories (`<service>-exhausted`).
EXHAUSTED_BY: dict[str, str] = {}
for _service in ("ingest", "matcher", "mailer"):
    _watcher = _exhausted(_service)
    EXHAUSTED_BY |= {d: _watcher.durable for d in CONSUMERS if d.startswith(f"{_service}-")}
    CONSUMERS[_watcher.durable] = _watcher
