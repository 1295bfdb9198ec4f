"""Who may do what on the bus: a role per service, and the operators', over the topology."""

from __future__ import annotations

import msgspec

from shared.bus.topology import DEAD_LETTER_STREAM, EXHAUSTED_STREAM, STREAMS, Subjects


class RoleSpec(msgspec.Struct, frozen=True, kw_only=True):
    """A NATS user: what one service, or the operators' tools, may do on the bus.

    shared/bus/permissions.py turns each role into the nats-server permissions of its user,
    and shared/bus/connect.py declares only the role's streams and consumers.
    """

    name: str
    publishes: list[str] = []  # subjects of streams it publishes to (patterns allowed)
    consumes: list[str] = []  # durable consumers it pulls from (and dead-letters for)
    answers: list[str] = []  # request-reply subjects it answers
    asks: list[str] = []  # request-reply subjects it asks
    inspects: bool = False  # reads the dead letters and every consumer's lag (operators)
    # Schemas whose outbox it relays: it publishes a notice of each row the bus refused
    # (OUTBOX_DEAD_SUBJECT) to the dead letters.
    outboxes: list[str] = []
    # Streams it may purge by subject: ingest removes an erased customer's contact data.
    purges: list[str] = []


OPERATOR = "operator"  # the role of the `anshin` CLI and the console's bus views

ROLES: dict[str, RoleSpec] = {
    role.name: role
    for role in [
        RoleSpec(
            name="ingest",
            publishes=[
                Subjects.ORDERS_PLACED,
                Subjects.ORDERS_BATCH,
                Subjects.ORDERS_CANCELLED,
                Subjects.ORDERS_RETURNED,
                # customer_upserted() and customer_batch(): a subject per customer or batch
                f"{Subjects.CUSTOMERS_UPSERTED}.*",
                f"{Subjects.CUSTOMERS_BATCH}.*",
                Subjects.ERASURE_REQUESTED,
                Subjects.ERASURE_CONFIRMED,
            ],
            consumes=["ingest-erasure", "ingest-erasure-confirmations", "ingest-exhausted"],
            answers=[Subjects.INGEST_CATALOG_LOOKUP],
            asks=[Subjects.MATCHER_EXPORT, Subjects.MAILER_EXPORT],
            outboxes=["ingest"],
            purges=["CUSTOMERS"],
        ),
        RoleSpec(
            name="advisory",
            publishes=[
                Subjects.ADVISORIES_PUBLISHED,
                Subjects.ADVISORIES_WITHDRAWN,
                Subjects.DISASTERS_DECLARED,
            ],
            asks=[
                Subjects.MATCHER_AUDIENCE,
                Subjects.MATCHER_FOLDS,
                Subjects.MATCHER_DRILL,
                Subjects.MAILER_REPORT,
                Subjects.MAILER_EVIDENCE,
                Subjects.INGEST_CATALOG_LOOKUP,
                # the console's suppressions page
                Subjects.MAILER_SUPPRESSIONS,
                Subjects.MAILER_SUPPRESSION_LIFT,
                Subjects.MAILER_PROVIDERS,  # the console's providers page
            ],
            outboxes=["advisory"],
        ),
        RoleSpec(
            name="matcher",
            publishes=[
                Subjects.DELIVERIES_REQUESTED,
                Subjects.MATCHER_FANOUT,
                Subjects.ERASURE_CONFIRMED,
            ],
            consumes=[
                "matcher-orders",
                "matcher-advisories",
                "matcher-disasters",
                "matcher-fanout",
                "matcher-erasure",
                "matcher-exhausted",
            ],
            answers=[
                Subjects.MATCHER_AUDIENCE,
                Subjects.MATCHER_EXPORT,
                Subjects.MATCHER_FOLDS,
                Subjects.MATCHER_DRILL,
            ],
            outboxes=["matcher"],
        ),
        RoleSpec(
            name="mailer",
            publishes=[Subjects.ERASURE_CONFIRMED],
            consumes=[
                "mailer-deliveries",
                "mailer-customers",
                "mailer-advisories",
                "mailer-disasters",
                "mailer-erasure",
                "mailer-exhausted",
            ],
            answers=[
                Subjects.MAILER_REPORT,
                Subjects.MAILER_EVIDENCE,
                Subjects.MAILER_SUPPRESSIONS,
                Subjects.MAILER_SUPPRESSION_LIFT,
                Subjects.MAILER_PROVIDERS,
                Subjects.MAILER_EXPORT,
            ],
        ),
        # The `anshin` CLI and the console's bus views: a dead letter is replayed to its
        # original subject, and a backfill publishes orders as ingest does.
        RoleSpec(
            name=OPERATOR,
            publishes=[
                s
                for spec in STREAMS
                if spec.name not in (DEAD_LETTER_STREAM, EXHAUSTED_STREAM)  # only the server's
                for s in spec.subjects
            ],
            inspects=True,
            outboxes=["ingest"],  # `anshin orders load` relays ingest's outbox
        ),
    ]
}
