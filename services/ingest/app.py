"""Wiring of the ingest service."""

from __future__ import annotations

from aiohttp import web

from services.ingest.api import routes
from shared.clock import Clock
from shared.config import Settings
from shared.service import base_app, database, nats_connection, outbox_relay

SCHEMA = "ingest"


def build(settings: Settings, clock: Clock | None = None) -> web.Application:
    """The ingest application with its pool, NATS connection and outbox relay."""
    app = base_app(settings, clock)
    app.cleanup_ctx.append(database(SCHEMA, "services.ingest", outbox=True))
    app.cleanup_ctx.append(nats_connection("ingest"))
    app.cleanup_ctx.append(outbox_relay(SCHEMA))
    app.router.add_routes(routes)
    return app
