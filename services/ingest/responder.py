"""The answer to `ingest.catalog.lookup`: which safety categories a product has.

The advisory service asks it for product pages; replicas share the work in one queue group.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Callable

import asyncpg
import msgspec
from aiohttp import web
from nats.aio.msg import Msg

from services.ingest import categories, store
from shared import messages as m
from shared.bus import Subjects
from shared.http import NATS, POOL

log = logging.getLogger(__name__)

_lookup = m.decoder(m.CatalogLookup)


async def answer(pool: asyncpg.Pool, data: bytes) -> m.CatalogEntry:
    """The catalog entry of the product a lookup names (found=False where there is none)."""
    try:
        question = _lookup.decode(data)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return m.CatalogEntry(sku="", found=False)
    row = await store.lookup(pool, question.sku)
    if row is None:
        return m.CatalogEntry(sku=question.sku, found=False)
    return m.CatalogEntry(
        sku=row["sku"],
        gtin=row["gtin"],
        title=row["title"],
        categories=categories.expand(list(row["categories"])),
        found=True,
    )


def catalog_responder() -> Callable[
    [web.Application], contextlib.AbstractAsyncContextManager[None]
]:
    """A cleanup context: answer catalog lookups while the service runs."""

    @contextlib.asynccontextmanager
    async def ctx(app: web.Application) -> AsyncIterator[None]:
        pool, nc = app[POOL], app[NATS]

        async def on_lookup(msg: Msg) -> None:
            try:
                reply = await answer(pool, msg.data)
            except Exception:
                # No answer: the asker times out and knows it does not know.
                log.exception("catalog lookup failed")
                return
            await msg.respond(m.encode(reply))

        sub = await nc.subscribe(Subjects.INGEST_CATALOG_LOOKUP, queue="ingest", cb=on_lookup)
        yield
        with contextlib.suppress(Exception):
            await sub.unsubscribe()

    return ctx
