"""The bus as operators see it: each durable consumer's lag (JetStream consumer info)."""

from __future__ import annotations

import asyncio

import msgspec
from nats.aio.client import Client
from nats.js.errors import NotFoundError

from shared.bus import CONSUMERS, ConsumerSpec

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
