"""Erasure: ingest records the request and publishes it through its outbox; every eraser
(docs/privacy.md) erases what it holds and confirms on the bus; ingest keeps the confirmations.

Ingest erases its own part in a consumer of the request like the others, so that a crash at any
point only delays it: the request is redelivered and erasing again finds nothing more.
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid

import asyncpg
from nats.aio.client import Client

from services.ingest.store import privacy as store
from shared import messages as m
from shared.bus import Subjects, channels
from shared.bus.channels import publish_on
from shared.clock import Clock
from shared.db import unit_of_work
from shared.outbox import enqueue_on

log = logging.getLogger(__name__)

CUSTOMERS_STREAM = "CUSTOMERS"


def customer_key(secret: bytes, customer_id: str) -> bytes:
    """A keyed hash of a customer id: the request names whose it was only to who knows the id."""
    data = f"customer:{customer_id}".encode()
    return hashlib.blake2b(data, key=secret[:64], digest_size=16).digest()


async def request(pool: asyncpg.Pool, secret: bytes, customer_id: str, clock: Clock) -> str:
    """Record an erasure of the customer (and the ids linked to it) and put it in the outbox;
    return the request's id. An unknown customer is erased too: nothing is found."""
    request_id = str(uuid.uuid4())
    now = clock.now()
    async with unit_of_work(pool) as conn:
        ids = await store.linked_customers(conn, customer_id)
        await store.record_request(
            conn, request_id, customer_key(secret, customer_id), len(ids), now
        )
        fact = m.ErasureRequested(request_id=request_id, customer_ids=ids, requested_at=now)
        await enqueue_on(conn, channels.ERASURE_REQUESTED, fact)
    log.info("erasure requested", extra={"request_id": request_id, "customers": len(ids)})
    return request_id


async def on_request(
    event: m.ErasureRequested, *, pool: asyncpg.Pool, nc: Client, clock: Clock
) -> None:
    """Erase ingest's orders and customer records, purge the contact data from the CUSTOMERS
    stream, and confirm both."""
    subjects = [Subjects.customer_upserted(c) for c in event.customer_ids]
    async with unit_of_work(pool) as conn:
        erased = await store.erase_customers(conn, event.customer_ids, subjects)
    await confirm(nc, event.request_id, "ingest", erased, clock)
    purged = 0
    for subject in subjects:
        purged += await _purge(nc, subject)
    await confirm(nc, event.request_id, "customers_stream", {"messages": purged}, clock)


async def _purge(nc: Client, subject: str) -> int:
    """Purge one subject of the CUSTOMERS stream; how many messages went (the API's answer,
    which nats-py's purge_stream does not pass on)."""
    reply = await nc.request(
        f"$JS.API.STREAM.PURGE.{CUSTOMERS_STREAM}", json.dumps({"filter": subject}).encode(), 5.0
    )
    answer = json.loads(reply.data)
    if "error" in answer:
        raise RuntimeError(f"purging {CUSTOMERS_STREAM} failed: {answer['error']}")
    return int(answer.get("purged", 0))


async def confirm(
    nc: Client, request_id: str, service: str, erased: dict[str, int], clock: Clock
) -> None:
    """Tell ingest that `service` holds nothing more of the request's customers."""
    fact = m.ErasureConfirmed(
        request_id=request_id, service=service, erased=erased, confirmed_at=clock.now()
    )
    await publish_on(nc, channels.ERASURE_CONFIRMED, fact)


async def on_confirmation(event: m.ErasureConfirmed, *, pool: asyncpg.Pool) -> None:
    """Keep an eraser's confirmation (once; a repeat is harmless)."""
    async with unit_of_work(pool, transaction=False) as conn:
        await store.record_confirmation(
            conn, event.request_id, event.service, event.erased, event.confirmed_at
        )
