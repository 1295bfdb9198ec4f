"""Running a service: its resources opened and closed in one place, and a graceful SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import logging
import signal
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from typing import Any, TypeVar

import uvloop
from aiohttp import web

from shared import bus, db, forwarded
from shared.bus import dead
from shared.clock import Clock, from_settings
from shared.config import Settings
from shared.http import NATS, POOL, add_ops_routes, error_middleware
from shared.outbox import DDL as OUTBOX_DDL
from shared.outbox import OutboxRelay

log = logging.getLogger(__name__)

T = TypeVar("T")

SETTINGS = web.AppKey("settings", Settings)
CLOCK = web.AppKey("clock", Clock)


def base_app(settings: Settings, clock: Clock | None = None) -> web.Application:
    """An application with JSON errors, the client behind trusted proxies, ops routes,
    settings and the clock."""
    app = web.Application(middlewares=[error_middleware], client_max_size=settings.max_body_bytes)
    forwarded.install(app, settings.trusted_proxies)
    app[SETTINGS] = settings
    app[CLOCK] = clock or from_settings(settings.clock_file)
    add_ops_routes(app)
    return app


def database(
    schema: str, package: str, *, outbox: bool = False, max_size: int = 10
) -> Callable[[web.Application], contextlib.AbstractAsyncContextManager[None]]:
    """A cleanup context: the pool on the service's schema, migrated before anything runs."""

    @contextlib.asynccontextmanager
    async def ctx(app: web.Application) -> AsyncIterator[None]:
        settings = app[SETTINGS]
        pool = await db.create_pool(settings.database_url, schema, max_size=max_size)
        await db.migrate(
            pool,
            schema,
            package,
            prelude=[OUTBOX_DDL] if outbox else [],
            lock_timeout_s=settings.migration_lock_timeout_s,
        )
        app[POOL] = pool
        yield
        await pool.close()

    return ctx


def nats_connection(
    name: str,
) -> Callable[[web.Application], contextlib.AbstractAsyncContextManager[None]]:
    """A cleanup context: the NATS connection, its streams and consumers declared; drained
    at the end.

    As a NATS user (ANSHIN_NATS_USER, a role) the service declares what that role may; on a
    server without users (the tests' own), the whole topology.
    """

    @contextlib.asynccontextmanager
    async def ctx(app: web.Application) -> AsyncIterator[None]:
        settings = app[SETTINGS]
        nc = await bus.connect_as(settings, name)
        await bus.declare(
            nc,
            role=settings.nats_user,
            replicas=settings.stream_replicas,
            max_deliver=settings.max_deliver,
        )
        app[NATS] = nc
        yield
        with contextlib.suppress(Exception):
            await nc.drain()

    return ctx


def outbox_relay(
    schema: str,
) -> Callable[[web.Application], contextlib.AbstractAsyncContextManager[None]]:
    """A cleanup context: the relay that publishes this schema's outbox."""

    @contextlib.asynccontextmanager
    async def ctx(app: web.Application) -> AsyncIterator[None]:
        relay = OutboxRelay(app[POOL], app[NATS], schema)
        await relay.start()
        yield
        await relay.stop()

    return ctx


@contextlib.asynccontextmanager
async def in_background(work: Coroutine[Any, Any, object], name: str) -> AsyncIterator[None]:
    """Run `work` as a task of its own while the application runs; cancel it at shutdown."""
    task = asyncio.create_task(work, name=name)
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def every(
    interval_s: float, work: Callable[[], Awaitable[object]], logger: logging.Logger, failed: str
) -> None:
    """Run `work` for ever, `interval_s` apart; a failure is logged (`failed`, on the caller's
    logger) and tried again at the next turn."""
    while True:
        try:
            await work()
        except Exception:
            logger.warning(failed, exc_info=True)
        await asyncio.sleep(interval_s)


Registry = dict[str, tuple[Any, Callable[[Any], Awaitable[None]]]]


def consumers(
    registry: Callable[[web.Application], Registry],
) -> Callable[[web.Application], contextlib.AbstractAsyncContextManager[None]]:
    """A cleanup context: one consumer per durable of the registry (message type, handler),
    and the one that dead-letters what ran out of deliveries on them unsettled.

    Consumers start last and stop first, so no handler runs without its pool or NATS.
    """

    @contextlib.asynccontextmanager
    async def ctx(app: web.Application) -> AsyncIterator[None]:
        nc, max_deliver = app[NATS], app[SETTINGS].max_deliver
        handlers = registry(app)
        exhausted = sorted({bus.EXHAUSTED_BY[d] for d in handlers if d in bus.EXHAUSTED_BY})
        to_dead = functools.partial(dead.on_max_deliveries, nc=nc)
        handlers |= {durable: (dead.MaxDeliveries, to_dead) for durable in exhausted}
        running = [
            bus.Consumer(nc, durable, kind, handler, max_deliver=max_deliver)
            for durable, (kind, handler) in handlers.items()
        ]
        for consumer in running:
            consumer.start()
        yield
        await asyncio.gather(*(c.stop() for c in running))

    return ctx


_YOUNG = 50_000  # allocations between collections of the youngest generation


def freeze_heap() -> None:
    """Move what start-up loaded (modules, postal data, category rules) out of the GC's sight.

    Bulk work allocates millions of short-lived objects; without this every full collection
    walks the long-lived tables again, which cost a fifth of a backfill's CPU. The young
    generation is collected every 50,000 allocations instead of 700: a batch of thousands
    of orders is a few hundred thousand objects that live until the batch is stored, and
    each collection of the young generations walked them all again (half of ingest's CPU).
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(_YOUNG, 20, 100)


async def serve(app: web.Application, port: int, host: str = "0.0.0.0") -> None:
    """Serve `app` until SIGTERM or SIGINT, then shut down in order."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port, reuse_address=True)
    await site.start()
    freeze_heap()
    log.info("listening", extra={"port": port})
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    log.info("shutting down")
    await runner.cleanup()


def run(main: Coroutine[Any, Any, T]) -> T:
    """Run a service or command to completion on uvloop's event loop.

    Its sockets, timers and callbacks cost less CPU than asyncio's own loop: the mailer
    bench measured about a sixth less sender CPU a mail.
    """
    return uvloop.run(main)


def main(
    name: str,
    build: Callable[[Settings], web.Application],
    port: Callable[[Settings], int],
    secrets: tuple[str, ...] = (),
) -> None:
    """Load settings, set up logs and serve a service until it is told to stop.

    In production (ANSHIN_ENV) a service that would run with a development secret among the
    `secrets` it reads, or without its NATS credentials, exits at once with one line.
    """
    from shared import config, logs

    settings = config.load()
    if problems := config.refusals(settings, secrets):
        raise SystemExit(f"{name}: refusing to start in production: {'; '.join(problems)}")
    logs.setup(name, settings.log_level)
    for warning in config.warnings(settings):
        log.warning(warning)
    try:
        run(serve(build(settings), port(settings)))
    except db.MigrationError as exc:
        # One line for the operator (`kubectl logs`), not a traceback through aiohttp's start.
        raise SystemExit(f"{name}: {exc}") from None
