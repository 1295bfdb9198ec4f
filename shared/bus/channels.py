"""Typed channels, declared once beside the subjects (topology.py).

A `Channel` is a stream subject with the message type it carries and the `Nats-Msg-Id` that
names each message's fact; a producer enqueues a message on a channel (`shared.outbox.enqueue_on`).
An `Inbox` is a durable consumer with the type it decodes; a service binds a handler to it
(`bind`). mypy checks both pairings: a message of another type, or a handler that takes
another type, does not type-check. tests/unit/test_channels.py checks that every channel a
durable's filter takes in is one its inbox decodes.

Ingest's facts (orders, customers) have no channel yet: `services/ingest/publishing.py`
encodes them, with ids that name the facts a batch carries (a customer's order among them,
which the message does not hold), and subjects of their own per customer and per batch.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Concatenate, Generic, ParamSpec, TypeVar

from nats.aio.client import Client

from shared import messages as m
from shared.bus.publish import jetstream, msg_id_header
from shared.bus.topology import Subjects

T = TypeVar("T", bound=m.Message)
P = ParamSpec("P")
Handler = Callable[[T], Awaitable[None]]


@dataclass(frozen=True)
class Channel(Generic[T]):
    """A subject, the one message type published on it, and how a message's id names it."""

    subject: str
    message: type[T]
    msg_id: Callable[[T], str]

    def outgoing(self, message: T) -> tuple[str, str, bytes]:
        """(subject, msg_id, payload) of a message, as the outbox keeps it."""
        return self.subject, self.msg_id(message), m.encode(message)


@dataclass(frozen=True)
class Inbox(Generic[T]):
    """A durable consumer (topology.CONSUMERS) and the message type or union it decodes."""

    durable: str
    decodes: Any  # a Struct type or a tagged union of them: T at run time


async def publish_on(nc: Client, channel: Channel[T], message: T) -> None:
    """Publish one message on its typed channel straight to JetStream (no outbox: for a
    fact its publisher can state again, as an eraser's confirmation) and wait for the ack."""
    subject, msg_id, payload = channel.outgoing(message)
    await jetstream(nc).publish(subject, payload, headers=msg_id_header(msg_id))


def bind(
    inbox: Inbox[T],
    handler: Callable[Concatenate[T, P], Awaitable[None]],
    /,
    *args: P.args,
    **deps: P.kwargs,
) -> tuple[str, tuple[Any, Handler[Any]]]:
    """A registry entry (shared.service.Registry): the handler of an inbox's messages, with
    its dependencies (`handler(message, *, pool, clock, ...)`), each checked against it."""

    def handle(message: T) -> Awaitable[None]:
        return handler(message, *args, **deps)

    return inbox.durable, (inbox.decodes, handle)


def _published(e: m.AdvisoryPublished) -> str:
    return f"advisory:{e.advisory_id}:v{e.version}:published"


def _withdrawn(e: m.AdvisoryWithdrawn) -> str:
    return f"advisory:{e.advisory_id}:withdrawn"


def _declared(e: m.DisasterDeclared) -> str:
    # Each revision is a message of its own; the first keeps the id it always had.
    return f"disaster:{e.event_id}:" + ("declared" if e.revision == 1 else f"r{e.revision}")


def _shard(s: m.FanoutShard) -> str:
    return f"fanout:{s.job_id}:{s.shard}"


def _deliveries(b: m.DeliveryBatch) -> str:
    return f"deliveries:{b.batch_id}"


def _erasure(e: m.ErasureRequested) -> str:
    return f"erasure:{e.request_id}"


def _erased(e: m.ErasureConfirmed) -> str:
    return f"erasure:{e.request_id}:{e.service}"


ADVISORY_PUBLISHED = Channel(Subjects.ADVISORIES_PUBLISHED, m.AdvisoryPublished, _published)
ADVISORY_WITHDRAWN = Channel(Subjects.ADVISORIES_WITHDRAWN, m.AdvisoryWithdrawn, _withdrawn)
DISASTER_DECLARED = Channel(Subjects.DISASTERS_DECLARED, m.DisasterDeclared, _declared)
FANOUT_SHARD = Channel(Subjects.MATCHER_FANOUT, m.FanoutShard, _shard)
DELIVERIES_REQUESTED = Channel(Subjects.DELIVERIES_REQUESTED, m.DeliveryBatch, _deliveries)
# A customer's erasure (docs/privacy.md): ingest's request, each eraser's confirmation.
ERASURE_REQUESTED = Channel(Subjects.ERASURE_REQUESTED, m.ErasureRequested, _erasure)
ERASURE_CONFIRMED = Channel(Subjects.ERASURE_CONFIRMED, m.ErasureConfirmed, _erased)

CHANNELS: list[Channel[Any]] = [
    ADVISORY_PUBLISHED,
    ADVISORY_WITHDRAWN,
    DISASTER_DECLARED,
    FANOUT_SHARD,
    DELIVERIES_REQUESTED,
    ERASURE_REQUESTED,
    ERASURE_CONFIRMED,
]

MATCHER_ORDERS: Inbox[m.OrderEvent] = Inbox("matcher-orders", m.OrderEvent)
MATCHER_ADVISORIES: Inbox[m.AdvisoryEvent] = Inbox("matcher-advisories", m.AdvisoryEvent)
MATCHER_DISASTERS: Inbox[m.DisasterEvent] = Inbox("matcher-disasters", m.DisasterEvent)
MATCHER_FANOUT: Inbox[m.FanoutShard] = Inbox("matcher-fanout", m.FanoutShard)
MAILER_DELIVERIES: Inbox[m.DeliveryEvent] = Inbox("mailer-deliveries", m.DeliveryEvent)
MAILER_CUSTOMERS: Inbox[m.CustomerEvent] = Inbox("mailer-customers", m.CustomerEvent)
MAILER_ADVISORIES: Inbox[m.AdvisoryEvent] = Inbox("mailer-advisories", m.AdvisoryEvent)
MAILER_DISASTERS: Inbox[m.DisasterEvent] = Inbox("mailer-disasters", m.DisasterEvent)
INGEST_ERASURE: Inbox[m.ErasureRequested] = Inbox("ingest-erasure", m.ErasureRequested)
INGEST_ERASURE_CONFIRMATIONS: Inbox[m.ErasureConfirmed] = Inbox(
    "ingest-erasure-confirmations", m.ErasureConfirmed
)
MATCHER_ERASURE: Inbox[m.ErasureRequested] = Inbox("matcher-erasure", m.ErasureRequested)
MAILER_ERASURE: Inbox[m.ErasureRequested] = Inbox("mailer-erasure", m.ErasureRequested)

INBOXES: list[Inbox[Any]] = [
    MATCHER_ORDERS,
    MATCHER_ADVISORIES,
    MATCHER_DISASTERS,
    MATCHER_FANOUT,
    MAILER_DELIVERIES,
    MAILER_CUSTOMERS,
    MAILER_ADVISORIES,
    MAILER_DISASTERS,
    INGEST_ERASURE,
    INGEST_ERASURE_CONFIRMATIONS,
    MATCHER_ERASURE,
    MAILER_ERASURE,
]
