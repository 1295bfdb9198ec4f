"""Wiring of the mailer service."""

from __future__ import annotations

import asyncio

from aiohttp import web

from services.mailer import (
    answers,
    evidence,
    handlers,
    health,
    privacy,
    retention,
    suppression_replies,
)
from services.mailer.api import PUBLIC, routes
from services.mailer.bounces import smtpd, webhooks
from services.mailer.report import responder
from services.mailer.sender import WAKE, sending
from shared import throttle
from shared.bus import channels
from shared.bus.channels import bind
from shared.clock import Clock
from shared.config import Settings
from shared.http import NATS, POOL
from shared.retention import pruner
from shared.service import CLOCK, SETTINGS, Registry, base_app, consumers, database, nats_connection

SCHEMA = "mailer"
# Secret settings it reads beyond the database and NATS: production refuses defaults.
SECRETS: tuple[str, ...] = ("secret_key", "operator_key")


def _registry(app: web.Application) -> Registry:
    pool, clock = app[POOL], app[CLOCK]
    key = privacy.erasure_key(app[SETTINGS].secret_key)
    return dict(
        [
            bind(
                channels.MAILER_CUSTOMERS,
                handlers.on_customer,
                pool=pool,
                clock=clock,
                erasure_key=key,
            ),
            bind(
                channels.MAILER_ADVISORIES,
                handlers.on_advisory,
                pool=pool,
                clock=clock,
                wake=app[WAKE],
            ),
            bind(channels.MAILER_DISASTERS, handlers.on_disaster, pool=pool, clock=clock),
            bind(
                channels.MAILER_DELIVERIES,
                handlers.on_delivery,
                pool=pool,
                clock=clock,
                wake=app[WAKE],
                erasure_key=key,
            ),
            bind(
                channels.MAILER_ERASURE,
                privacy.on_erasure,
                pool=pool,
                nc=app[NATS],
                clock=clock,
                key=key,
            ),
        ]
    )


def build(settings: Settings, clock: Clock | None = None) -> web.Application:
    """The mailer application: pool, NATS, its responders, consumers and the sender."""
    app = base_app(settings, clock)
    app[WAKE] = asyncio.Event()
    # The operators' preview: 429 after refused keys (links and signed webhooks carry none).
    throttle.install(app, public=PUBLIC | webhooks.PUBLIC | answers.PUBLIC)
    app.cleanup_ctx.append(database(SCHEMA, "services.mailer"))
    app.cleanup_ctx.append(nats_connection("mailer"))
    app.cleanup_ctx.append(responder)
    app.cleanup_ctx.append(evidence.responder)
    app.cleanup_ctx.append(suppression_replies.listing)
    app.cleanup_ctx.append(suppression_replies.lifting)
    app.cleanup_ctx.append(health.responder)
    app.cleanup_ctx.append(privacy.exporter)
    app.cleanup_ctx.append(pruner(SCHEMA, retention.rules))
    app.cleanup_ctx.append(consumers(_registry))
    app.cleanup_ctx.append(sending)
    app.cleanup_ctx.append(smtpd.receiving)
    app.cleanup_ctx.append(webhooks.verifying)
    app.router.add_routes(routes)
    app.router.add_routes(answers.routes)
    app.router.add_routes(webhooks.routes)
    return app
