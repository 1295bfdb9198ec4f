"""Wiring of the ingest service."""

from __future__ import annotations

from aiohttp import web

from services.ingest.api import EMAIL_SECRET, routes
from services.ingest.intake import email_secret
from services.ingest.privacy import api as privacy_api
from services.ingest.privacy import erasure, retention
from services.ingest.privacy.watch import erasure_watch
from services.ingest.responder import catalog_responder
from shared import throttle
from shared.bus import channels
from shared.bus.channels import bind
from shared.clock import Clock
from shared.config import Settings
from shared.http import NATS, POOL
from shared.retention import pruner
from shared.service import (
    CLOCK,
    Registry,
    base_app,
    consumers,
    database,
    nats_connection,
    outbox_relay,
)

SCHEMA = "ingest"
# Secret settings it reads beyond the database and NATS: production refuses defaults.
SECRETS: tuple[str, ...] = ("secret_key", "operator_key")


def _registry(app: web.Application) -> Registry:
    pool, clock = app[POOL], app[CLOCK]
    return dict(
        [
            bind(channels.INGEST_ERASURE, erasure.on_request, pool=pool, nc=app[NATS], clock=clock),
            bind(channels.INGEST_ERASURE_CONFIRMATIONS, erasure.on_confirmation, pool=pool),
        ]
    )


def build(settings: Settings, clock: Clock | None = None) -> web.Application:
    """The ingest application: pool, NATS, outbox relay and the catalog responder."""
    app = base_app(settings, clock)
    app[EMAIL_SECRET] = email_secret(settings.secret_key)
    app.cleanup_ctx.append(database(SCHEMA, "services.ingest", outbox=True))
    app.cleanup_ctx.append(nats_connection("ingest"))
    app.cleanup_ctx.append(outbox_relay(SCHEMA))
    app.cleanup_ctx.append(catalog_responder)
    app.cleanup_ctx.append(consumers(_registry))
    app.cleanup_ctx.append(pruner(SCHEMA, retention.rules))
    app.cleanup_ctx.append(erasure_watch)
    app.router.add_routes(routes)
    app.router.add_routes(privacy_api.routes)
    # Refused keys are counted per client and key prefix: 429 to a guesser, never to others.
    throttle.install(app, public={("GET", "/v1/categories")})
    return app
