"""Wiring of the advisory service."""

from __future__ import annotations

from aiohttp import web

from services.advisory import PACKAGE, SCHEMA, api, desk, disasters, public
from services.advisory.disasters.feedreader import feed_reader
from services.advisory.lifecycle.keeper import embargo_keeper
from services.advisory.peers.deadlines import deadline_watch
from shared import throttle
from shared.clock import Clock
from shared.config import Settings
from shared.retention import outbox_rules, pruner
from shared.service import base_app, database, nats_connection, outbox_relay

# Secret settings it reads beyond the database and NATS: production refuses defaults.
SECRETS: tuple[str, ...] = (
    "secret_key",
    "operator_key",
    "nats_operator_password",
    "evidence_key",
)


def build(settings: Settings, clock: Clock | None = None) -> web.Application:
    """The advisory application with its pool, NATS, outbox relay, embargo keeper and feed
    reader."""
    app = base_app(settings, clock)
    app[public.CATALOG_CACHE] = {}
    # Key guessing: 429 after too many refused tries of one key from one client; the
    # portal's sign-in takes the key in its form's field `key`.
    login = {("POST", "/portal/login"): "key"}
    throttle.install(app, public=public.unsecured(), key_forms=login)
    app.cleanup_ctx.append(database(SCHEMA, PACKAGE, outbox=True))
    app.cleanup_ctx.append(nats_connection("advisory"))
    app.cleanup_ctx.append(desk.operator_connection)
    app.cleanup_ctx.append(outbox_relay(SCHEMA))
    app.cleanup_ctx.append(embargo_keeper)
    app.cleanup_ctx.append(deadline_watch)
    app.cleanup_ctx.append(pruner(SCHEMA, outbox_rules))  # refused outbox rows expire
    app.cleanup_ctx.append(feed_reader)
    app.cleanup_ctx.append(api.signing)
    for routes in (*api.ROUTES, *disasters.ROUTES, *public.ROUTES, *desk.ROUTES):
        app.router.add_routes(routes)
    return app
