"""Driving the mailer as the other services do: facts on the real bus, the ledger read back."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import UTC, datetime

import asyncpg
import msgspec
from nats.aio.client import Client

from services.mailer import store
from shared import bus
from shared import messages as m
from shared.bus import Subjects
from shared.clock import Clock
from shared.messages import Kind, Priority

KIND_PRIORITY = {
    "long_term": Priority.LONG_TERM,
    "combination": Priority.COMBINATION,
    "short_term": Priority.SHORT_TERM,
    "recall": Priority.RECALL,
    "disaster": Priority.DISASTER,
}


@contextlib.asynccontextmanager
async def nats(url: str) -> AsyncIterator[Client]:
    """A NATS connection with every stream declared."""
    nc = await bus.connect(url, "test")
    await bus.declare(nc)
    try:
        yield nc
    finally:
        await nc.drain()


async def customers(nc: Client, *people: tuple[str, str, str, str]) -> None:
    """Publish contacts as (customer_id, email, locale, timezone)."""
    for customer_id, email, locale, tz in people:
        event = m.CustomerUpserted(
            customer_id=customer_id, email=email, locale=locale, timezone=tz, name=""
        )
        await publish_contact(nc, event)


async def publish_contact(nc: Client, contact: m.CustomerUpserted) -> None:
    """Publish one customer's contact data as ingest does (a new address is a new fact)."""
    subject = Subjects.customer_upserted(contact.customer_id)
    await bus.publish(nc, subject, contact, f"customer:{contact.customer_id}:{contact.email}")


async def advisory(
    nc: Client, advisory_id: str, kind: str = "short_term", expires_at: datetime | None = None
) -> None:
    """Publish an advisory in three languages from a named agency (until `expires_at`)."""
    event = m.AdvisoryPublished(
        advisory_id=advisory_id,
        version=1,
        agency_id="ag-1",
        agency_name="Consumer Safety Institute",
        rule=msgspec.convert({"kind": kind}, m.AdvisoryRule),
        title={
            "en": f"Advice {advisory_id}",
            "ja": f"お知らせ {advisory_id}",
            "fr": f"Conseil {advisory_id}",
        },
        body={
            "en": "Never charge it unattended.",
            "ja": "充電中は目を離さないでください。",
            "fr": "Ne la chargez jamais sans surveillance.",
        },
        published_at=datetime.now(UTC),
        source_url="https://agency.example/notice",
        expires_at=expires_at,
    )
    await bus.publish(nc, Subjects.ADVISORIES_PUBLISHED, event, f"advisory:{advisory_id}:1")


async def withdraw(nc: Client, advisory_id: str) -> None:
    """Publish a withdrawal."""
    event = m.AdvisoryWithdrawn(advisory_id=advisory_id, withdrawn_at=datetime.now(UTC))
    await bus.publish(nc, Subjects.ADVISORIES_WITHDRAWN, event, f"withdrawn:{advisory_id}")


async def deliveries(
    nc: Client,
    advisory_id: str,
    customer_ids: Sequence[str],
    kind: str = "short_term",
    event_id: str = "",
    again: int = 0,
) -> None:
    """Publish one batch requesting the advisory for these customers (for a declared disaster's
    `event_id`); `again` > 0 sends it under another batch id, past the broker's duplicate check."""
    batch = m.DeliveryBatch(
        batch_id=f"{advisory_id}:{event_id}:{customer_ids[0]}:{len(customer_ids)}:{again}",
        advisory_id=advisory_id,
        kind=kind,
        priority=KIND_PRIORITY[kind],
        requested_at=datetime.now(UTC),
        recipients=[
            m.Recipient(
                customer_id=c,
                reason="purchase",
                purchases=[
                    m.Purchase(channel="web", order_id=f"A-{c}", sku="PB-1", title="Power bank")
                ],
            )
            for c in customer_ids
        ],
        event_id=event_id,
    )
    await bus.publish(nc, Subjects.DELIVERIES_REQUESTED, batch, f"batch:{batch.batch_id}")


async def stored_deliveries(
    pool: asyncpg.Pool, advisory_id: str, kind: Kind, customer_ids: Sequence[str], now: datetime
) -> None:
    """Contacts, an advisory and one batch of its deliveries, written straight to the mailer's
    tables: for tests that play a replica by hand."""
    contacts = [m.CustomerUpserted(customer_id=c, email=f"{c}@example.jp") for c in customer_ids]
    async with pool.acquire() as conn:
        await store.upsert_contacts(conn, contacts, now)
    advice = m.AdvisoryPublished(
        advisory_id=advisory_id,
        version=1,
        agency_id="ag",
        agency_name="Fire Department",
        rule=msgspec.convert({"kind": kind}, m.AdvisoryRule),
        title={"en": "Advice"},
        body={"en": "Read it."},
        published_at=now,
    )
    batch = m.DeliveryBatch(
        batch_id=advisory_id,
        advisory_id=advisory_id,
        kind=kind,
        priority=KIND_PRIORITY[kind],
        requested_at=now,
        recipients=[m.Recipient(customer_id=c, reason="purchase") for c in customer_ids],
    )
    async with pool.acquire() as conn:
        await store.save_advisory(conn, advice)
        await store.add_deliveries(conn, batch, now)


async def states(database_url: str, advisory_id: str | None = None) -> dict[str, int]:
    """Ledger rows by state, for one advisory or all."""
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch(
            "SELECT state, count(*) AS n FROM mailer.deliveries"
            " WHERE $1::text IS NULL OR advisory_id = $1 GROUP BY state",
            advisory_id,
        )
    finally:
        await conn.close()
    return {r["state"]: r["n"] for r in rows}


async def eventually(check: Callable[[], object], timeout: float = 15.0) -> None:
    """Wait until an (async) check returns something true."""
    async with asyncio.timeout(timeout):
        while True:
            result = check()
            if asyncio.iscoroutine(result):
                result = await result
            if result:
                return
            await asyncio.sleep(0.1)


def set_time(clock: Clock, at: datetime) -> None:
    """Move a test clock to an absolute time."""
    clock.advance(at - clock.now())


async def wait_states(
    database_url: str, expected: dict[str, int], advisory_id: str | None = None
) -> None:
    """Wait until the ledger holds exactly these counts by state."""

    seen: dict[str, int] = {}

    async def matches() -> bool:
        now = await states(database_url, advisory_id)
        seen.clear()
        seen.update(now)
        return seen == expected

    try:
        await eventually(matches)
    except TimeoutError:
        raise AssertionError(f"the ledger never held {expected}: last {seen}") from None


async def reach_report(nc: Client, advisory_id: str) -> m.ReachReport:
    """The mailer's answer to `mailer.report` for one advisory."""
    request = m.encode(m.ReportRequest(advisory_id=advisory_id))
    reply = await nc.request(Subjects.MAILER_REPORT, request, timeout=5)
    return msgspec.json.decode(reply.data, type=m.ReachReport)
