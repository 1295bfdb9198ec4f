"""Wiring of the ingest service."""

from __future__ import annotations

from aiohttp import web

from services.ingest.api import EMAIL_SECRET, routes
from services.ingest.intake import email_secret
from services.ingest.responder import catalog_responder
from shared import throttle
from shared.clock import Clock
from shared.config import Settings
from shared.service import base_app, database, nats_connection, outbox_relay

SCHEMA = "ingest"
# Secret settings it reads beyond the database and NATS: production refuses defaults.
SECRETS: tuple[str, ...] = ("secret_key", "operator_key")


def build(settings: Settings, clock: Clock | None = None) -> web.Application:
    """The ingest application: pool, NATS, outbox relay and the catalog responder."""
    app = base_app(settings, clock)
    app[EMAIL_SECRET] = email_secret(settings.secret_key)
    app.cleanup_ctx.append(database(SCHEMA, "services.ingest", outbox=True))
    app.cleanup_ctx.append(nats_connection("ingest"))
    app.cleanup_ctx.append(outbox_relay(SCHEMA))
    app.cleanup_ctx.append(catalog_responder)
    app.router.add_routes(routes)
    # Refused keys are counted per client and key prefix: 429 to a guesser, never to others.
    throttle.install(app, public={("GET", "/v1/categories")})
    return app
