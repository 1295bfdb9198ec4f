"""The bus as operators see it: each durable consumer's lag (JetStream consumer info).

The console reads the dead letters, every consumer's lag and replays as the NATS user
`operator`: the advisory's own user may publish only advisories and disasters.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import msgspec
from aiohttp import web
from nats.aio.client import Client
from nats.js.errors import NotFoundError

from shared import bus
from shared.bus import CONSUMERS, ConsumerSpec
from shared.bus.roles import OPERATOR
from shared.http import NATS
from shared.service import SETTINGS

OPERATOR_NATS = web.AppKey("operator_nats", Client)

TIMEOUT_SECONDS = 1.0


class Lag(msgspec.Struct, frozen=True, kw_only=True):
    """How far one durable consumer is behind its stream; `problem` if it cannot be told."""

    durable: str
    stream: str
    pending: int = 0  # in the stream, not yet delivered to the consumer: the lag
    ack_pending: int = 0  # delivered, not yet acknowledged
    redelivered: int = 0
    waiting: int = 0  # pull requests waiting: replicas ready for more
    last_delivered: int = 0  # stream sequence
    problem: str = ""


@contextlib.asynccontextmanager
async def operator_connection(app: web.Application) -> AsyncIterator[None]:
    """A cleanup context: the console's connection as `operator` where its password is set;
    else the service's own (a server without authorization, as in the tests)."""
    settings = app[SETTINGS]
    if not settings.nats_operator_password:
        app[OPERATOR_NATS] = app[NATS]
        yield
        return
    nc = await bus.connect(
        settings.nats_url,
        "advisory-console",
        user=OPERATOR,
        password=settings.nats_operator_password,
    )
    app[OPERATOR_NATS] = nc
    yield
    with contextlib.suppress(Exception):
        await nc.drain()


async def consumer_lag(nc: Client) -> list[Lag]:
    """The lag of every durable consumer declared in shared/bus/topology.py, by stream."""
    specs = sorted(CONSUMERS.values(), key=lambda s: (s.stream, s.durable))
    return list(await asyncio.gather(*(_one(nc, spec) for spec in specs)))


async def _one(nc: Client, spec: ConsumerSpec) -> Lag:
    js = nc.jetstream()
    try:
        info = await js.consumer_info(spec.stream, spec.durable, timeout=TIMEOUT_SECONDS)
    except NotFoundError:
        return Lag(durable=spec.durable, stream=spec.stream, problem="not created yet")
    except Exception as exc:  # a timeout, a server restarting: say so, show the rest
        return Lag(durable=spec.durable, stream=spec.stream, problem=type(exc).__name__)
    return Lag(
        durable=spec.durable,
        stream=spec.stream,
        pending=info.num_pending or 0,
        ack_pending=info.num_ack_pending or 0,
        redelivered=info.num_redelivered or 0,
        waiting=info.num_waiting or 0,
        last_delivered=info.delivered.stream_seq if info.delivered else 0,
    )
