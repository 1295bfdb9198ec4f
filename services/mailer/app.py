"""Wiring of the mailer service."""

from __future__ import annotations

import asyncio
import functools

from aiohttp import web

from services.mailer import handlers, privacy, retention, suppression_replies
from services.mailer.api import PUBLIC, routes
from services.mailer.report import responder
from services.mailer.sender import WAKE, sending
from shared import messages as m
from shared import throttle
from shared.clock import Clock
from shared.config import Settings
from shared.http import NATS, POOL
from shared.retention import pruner
from shared.service import CLOCK, SETTINGS, Registry, base_app, consumers, database, nats_connection

SCHEMA = "mailer"
# Secret settings it reads beyond the database and NATS: production refuses defaults.
SECRETS: tuple[str, ...] = ("secret_key", "operator_key")


def _registry(app: web.Application) -> Registry:
    on = functools.partial
    pool, clock = app[POOL], app[CLOCK]
    key = privacy.erasure_key(app[SETTINGS].secret_key)
    return {
        "mailer-customers": (
            m.CustomerEvent,
            on(handlers.on_customer, pool=pool, clock=clock, erasure_key=key),
        ),
        "mailer-erasure": (
            m.ErasureRequested,
            on(privacy.on_erasure, pool=pool, nc=app[NATS], clock=clock, key=key),
        ),
        "mailer-advisories": (
            m.AdvisoryEvent,
            on(handlers.on_advisory, pool=pool, clock=clock),
        ),
        "mailer-deliveries": (
            m.DeliveryEvent,
            on(handlers.on_delivery, pool=pool, clock=clock, wake=app[WAKE], erasure_key=key),
        ),
    }


def build(settings: Settings, clock: Clock | None = None) -> web.Application:
    """The mailer application: pool, NATS, its responders, consumers and the sender."""
    app = base_app(settings, clock)
    app[WAKE] = asyncio.Event()
    throttle.install(app, public=PUBLIC)  # the operators' preview: 429 after refused keys
    app.cleanup_ctx.append(database(SCHEMA, "services.mailer"))
    app.cleanup_ctx.append(nats_connection("mailer"))
    app.cleanup_ctx.append(responder)
    app.cleanup_ctx.append(suppression_replies.listing)
    app.cleanup_ctx.append(suppression_replies.lifting)
    app.cleanup_ctx.append(privacy.exporter)
    app.cleanup_ctx.append(pruner(SCHEMA, retention.rules))
    app.cleanup_ctx.append(consumers(_registry))
    app.cleanup_ctx.append(sending)
    app.router.add_routes(routes)
    return app
