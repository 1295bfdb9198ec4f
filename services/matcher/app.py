"""Wiring of the matcher service."""

from __future__ import annotations

import contextlib
import os
import secrets
import socket
from collections.abc import AsyncIterator

from aiohttp import web

from services.matcher import drill, fanout, handlers, orders, privacy, retention
from services.matcher.responder import folds, responder
from services.matcher.scheduler import scheduler
from shared.bus import channels
from shared.bus.batch import BatchConsumer
from shared.bus.channels import bind
from shared.clock import Clock
from shared.config import Settings
from shared.http import NATS, POOL
from shared.retention import pruner
from shared.service import (
    CLOCK,
    SETTINGS,
    Registry,
    base_app,
    consumers,
    database,
    nats_connection,
    outbox_relay,
)

SCHEMA = "matcher"
# Secret settings it reads beyond the database and NATS: production refuses defaults.
SECRETS: tuple[str, ...] = ()
ORDER_BATCH = 1000
REPLICA = web.AppKey("replica", str)


def _registry(app: web.Application) -> Registry:
    pool, clock, settings = app[POOL], app[CLOCK], app[SETTINGS]
    replica = app[REPLICA]
    return dict(
        [
            bind(
                channels.MATCHER_ADVISORIES,
                handlers.on_advisory,
                pool=pool,
                clock=clock,
                settings=settings,
            ),
            bind(
                channels.MATCHER_DISASTERS,
                handlers.on_disaster,
                pool=pool,
                clock=clock,
                settings=settings,
            ),
            bind(
                channels.MATCHER_ERASURE,
                privacy.on_erasure,
                pool=pool,
                nc=app[NATS],
                clock=clock,
            ),
            bind(
                channels.MATCHER_FANOUT,
                fanout.on_shard,
                pool=pool,
                clock=clock,
                settings=settings,
                replica=replica,
            ),
        ]
    )


@contextlib.asynccontextmanager
async def _order_consumer(app: web.Application) -> AsyncIterator[None]:
    """Orders are handled a fetched batch at a time: one transaction for hundreds of orders."""
    pool, clock, settings = app[POOL], app[CLOCK], app[SETTINGS]
    consumer = BatchConsumer.of(
        app[NATS],
        channels.MATCHER_ORDERS,
        lambda events: orders.on_orders(events, pool=pool, clock=clock, settings=settings),
        max_deliver=settings.max_deliver,
        batch=ORDER_BATCH,
    )
    consumer.start()
    yield
    await consumer.stop()


def build(settings: Settings, clock: Clock | None = None) -> web.Application:
    """The matcher application: pool, NATS, outbox relay, consumers, scheduler and responder."""
    app = base_app(settings, clock)
    app[REPLICA] = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
    app.cleanup_ctx.append(database(SCHEMA, "services.matcher", outbox=True))
    app.cleanup_ctx.append(nats_connection("matcher"))
    app.cleanup_ctx.append(outbox_relay(SCHEMA))
    app.cleanup_ctx.append(consumers(_registry))
    app.cleanup_ctx.append(_order_consumer)
    app.cleanup_ctx.append(scheduler)
    app.cleanup_ctx.append(responder)
    app.cleanup_ctx.append(folds)
    app.cleanup_ctx.append(drill.responder)
    app.cleanup_ctx.append(privacy.exporter)
    app.cleanup_ctx.append(pruner(SCHEMA, retention.rules))
    return app
