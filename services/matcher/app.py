"""Wiring of the matcher service."""

from __future__ import annotations

import functools

from aiohttp import web

from services.matcher import handlers
from shared import messages as m
from shared.clock import Clock
from shared.config import Settings
from shared.http import POOL
from shared.service import (
    CLOCK,
    Registry,
    base_app,
    consumers,
    database,
    nats_connection,
    outbox_relay,
)

SCHEMA = "matcher"


def _registry(app: web.Application) -> Registry:
    on = functools.partial
    pool, clock = app[POOL], app[CLOCK]
    return {
        "matcher-orders": (
            m.OrderEvent,
            on(handlers.on_order, pool=pool, clock=clock),
        ),
        "matcher-advisories": (
            m.AdvisoryEvent,
            on(handlers.on_advisory, pool=pool, clock=clock),
        ),
    }


def build(settings: Settings, clock: Clock | None = None) -> web.Application:
    """The matcher application: pool, NATS, outbox relay and its consumers."""
    app = base_app(settings, clock)
    app.cleanup_ctx.append(database(SCHEMA, "services.matcher", outbox=True))
    app.cleanup_ctx.append(nats_connection("matcher"))
    app.cleanup_ctx.append(outbox_relay(SCHEMA))
    app.cleanup_ctx.append(consumers(_registry))
    return app
