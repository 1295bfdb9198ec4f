"""A customer's rights in the mailer: erasure of contacts and suppressions with the ledger
kept under a pseudonym, and the answer to `mailer.export`.

Mail already on its way is not sent after the erasure is confirmed: the erasure waits until
no claim of the customers' mail is in flight (its lease, renewed while the mail is on the
wire), then cancels what still waits and removes the address, which no claim can then read.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import time
from collections.abc import Sequence
from datetime import datetime

import asyncpg
import msgspec
from aiohttp import web
from nats.aio.client import Client

from services.mailer.store import privacy as store
from shared import messages as m
from shared.bus import Subjects, channels, reply
from shared.bus.channels import publish_on
from shared.bus.reply import Answer
from shared.clock import Clock
from shared.db import Conn, unit_of_work
from shared.http import POOL

# How long an erasure waits for mail in flight before it lets the request be redelivered.
IN_FLIGHT_WAIT_S = 60.0


class MailInFlight(Exception):
    """A customer's mail is still on the wire: the erasure is tried again later."""


def erasure_key(secret_key: str) -> bytes:
    """The key of the mailer's hashes of erased addresses and customers."""
    return hmac.new(secret_key.encode(), b"anshin:mailer:erasure", hashlib.sha256).digest()


def keyed(key: bytes, kind: str, value: str) -> bytes:
    """A keyed hash of an address or a customer id: comparable, not reversible."""
    return hashlib.blake2b(f"{kind}:{value}".encode(), key=key, digest_size=16).digest()


def lock_key(key: bytes, customer_id: str) -> int:
    """A customer's advisory lock: contact data and an erasure of one customer take turns."""
    return int.from_bytes(keyed(key, "lock", customer_id)[:8], "big", signed=True)


def pseudonym(key: bytes, customer_id: str, why: str = "erased") -> str:
    """What a customer's ledger rows are kept under once erased (or expired: retention)."""
    return f"{why}:" + keyed(key, "customer", customer_id).hex()


async def on_erasure(
    event: m.ErasureRequested, *, pool: asyncpg.Pool, nc: Client, clock: Clock, key: bytes
) -> None:
    """Erase the request's customers once none of their mail is in flight, then confirm."""
    ids = event.customer_ids
    deadline = time.monotonic() + IN_FLIGHT_WAIT_S
    while True:
        async with unit_of_work(pool) as conn:
            await store.lock_customers(conn, [lock_key(key, c) for c in ids], shared=False)
            if not await store.in_flight(conn, ids):
                emails = await store.addresses(conn, ids)
                erased = await store.erase(
                    conn,
                    ids,
                    [pseudonym(key, c) for c in ids],
                    [keyed(key, "customer", c) for c in ids],
                    emails,
                    [keyed(key, "email", e) for e in emails],
                    clock.now(),
                )
                break
        if time.monotonic() > deadline:
            raise MailInFlight(f"erasure {event.request_id}: mail still in flight")
        await asyncio.sleep(0.5)
    fact = m.ErasureConfirmed(
        request_id=event.request_id, service="mailer", erased=erased, confirmed_at=clock.now()
    )
    await publish_on(nc, channels.ERASURE_CONFIRMED, fact)


async def before_contacts(conn: Conn, contacts: Sequence[m.CustomerUpserted], key: bytes) -> None:
    """Inside the transaction that takes contacts in, first: wait for an erasure of any of
    them under way, so that its deletion sees these contacts or they see its hash."""
    keys = [lock_key(key, c.customer_id) for c in contacts]
    await store.lock_customers(conn, keys, shared=True)


async def after_contacts(conn: Conn, contacts: Sequence[m.CustomerUpserted], key: bytes) -> None:
    """Inside the transaction that took contacts in: forget erased customers' contact data
    dated before their erasure, and suppress again an erased suppressed address."""
    ids = [c.customer_id for c in contacts]
    emails = sorted({c.email for c in contacts})
    await store.after_contacts(
        conn,
        ids,
        [keyed(key, "customer", c) for c in ids],
        emails,
        [keyed(key, "email", e) for e in emails],
    )


async def without_erased(conn: Conn, batch: m.DeliveryBatch, key: bytes) -> m.DeliveryBatch:
    """The batch without the recipients erased after all their purchases: a request the
    matcher made from what it held just before its erasure never lands in the ledger."""
    keys = {r.customer_id: keyed(key, "customer", r.customer_id) for r in batch.recipients}
    erased = await store.erased_since(conn, list(keys.values()))
    if not erased:
        return batch

    def older(r: m.Recipient, at: datetime) -> bool:
        return all(p.placed_at is None or p.placed_at <= at for p in r.purchases)

    kept = [
        r
        for r in batch.recipients
        if (at := erased.get(keys[r.customer_id])) is None or not older(r, at)
    ]
    return msgspec.structs.replace(batch, recipients=kept)


def _answerer(app: web.Application) -> Answer:
    pool = app[POOL]

    async def answer(question: m.ExportRequest) -> m.ExportPart:
        async with unit_of_work(pool, transaction=False) as conn:
            sections = await store.export(conn, question.customer_ids)
        return m.ExportPart(service="mailer", sections=sections)

    return answer


exporter = reply.responder(Subjects.MAILER_EXPORT, "mailer", m.ExportRequest, _answerer)
