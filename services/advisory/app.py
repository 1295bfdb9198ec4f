"""Wiring of the advisory service."""

from __future__ import annotations

from aiohttp import web

from services.advisory import PACKAGE, SCHEMA
from services.advisory.api import advisories as api
from services.advisory.api import owner
from services.advisory.desk.console import bus as console_bus
from services.advisory.desk.console import overview as console
from services.advisory.desk.console import pages as console_pages
from services.advisory.desk.console import suppressions as console_suppressions
from services.advisory.desk.portal import pages as portal
from services.advisory.disasters import events
from services.advisory.lifecycle.keeper import embargo_keeper
from services.advisory.public import notices, openapi, pages
from shared import throttle
from shared.clock import Clock
from shared.config import Settings
from shared.service import base_app, database, nats_connection, outbox_relay

# Secret settings it reads beyond the database and NATS: production refuses defaults.
SECRETS: tuple[str, ...] = ("secret_key", "operator_key", "nats_operator_password")


def build(settings: Settings, clock: Clock | None = None) -> web.Application:
    """The advisory application with its pool, NATS, outbox relay and embargo keeper."""
    app = base_app(settings, clock)
    app[notices.CATALOG_CACHE] = {}
    # Key guessing: 429 after too many refused tries of one key from one client; the
    # portal's sign-in takes the key in its form's field `key`.
    login = {("POST", "/portal/login"): "key"}
    throttle.install(app, public=openapi.unsecured(), key_forms=login)
    app.cleanup_ctx.append(database(SCHEMA, PACKAGE, outbox=True))
    app.cleanup_ctx.append(nats_connection("advisory"))
    app.cleanup_ctx.append(console_bus.operator_connection)
    app.cleanup_ctx.append(outbox_relay(SCHEMA))
    app.cleanup_ctx.append(embargo_keeper)
    pages_of = (console, console_pages, console_suppressions, portal, openapi)
    for module in (api, owner, events, notices, pages, *pages_of):
        app.router.add_routes(module.routes)
    return app
