"""Connecting to NATS and declaring the streams and consumers, idempotently."""

from __future__ import annotations

import asyncio
import logging

import nats
import nats.errors
from nats.aio.client import Client
from nats.js.api import (
    AckPolicy,
    ConsumerConfig,
    DeliverPolicy,
    RetentionPolicy,
    StorageType,
    StreamConfig,
)
from nats.js.errors import BadRequestError, ServiceUnavailableError

from shared.bus import size
from shared.bus.topology import CONSUMERS, STREAMS

log = logging.getLogger(__name__)


async def connect(url: str, name: str) -> Client:
    """Connect to NATS (`url` may list several servers, comma-separated), retrying for ever."""
    nc = await nats.connect(
        servers=[server.strip() for server in url.split(",") if server.strip()],
        name=name,
        max_reconnect_attempts=-1,
        reconnect_time_wait=0.5,
        connect_timeout=2,
        allow_reconnect=True,
    )
    size.heard(nc)
    return nc


def _stream_config(spec_name: str, replicas: int) -> StreamConfig:
    spec = next(s for s in STREAMS if s.name == spec_name)
    retention = RetentionPolicy.LIMITS
    if spec.work_queue:
        retention = RetentionPolicy.WORK_QUEUE
    elif spec.interest:
        retention = RetentionPolicy.INTEREST
    return StreamConfig(
        name=spec.name,
        subjects=spec.subjects,
        storage=StorageType.FILE,
        retention=retention,
        max_msgs_per_subject=spec.max_msgs_per_subject or -1,
        duplicate_window=spec.duplicate_window_s,
        max_age=spec.max_age_days * 86400 if spec.max_age_days else None,
        num_replicas=replicas,
    )


DECLARE_TRIES = 6


async def declare(nc: Client, *, replicas: int = 1, max_deliver: int = 8) -> None:
    """Create or update every stream and durable consumer; safe to run from every replica.

    A cluster that is still forming, or creating replicated streams for other services at
    the same moment, can leave a JetStream request unanswered for a while: try again.
    """
    for attempt in range(1, DECLARE_TRIES + 1):
        try:
            await _declare(nc, replicas, max_deliver)
            return
        except (nats.errors.TimeoutError, ServiceUnavailableError):
            if attempt == DECLARE_TRIES:
                raise
            log.warning("JetStream did not answer the declaration; retrying", exc_info=True)
            await asyncio.sleep(attempt)


async def _declare(nc: Client, replicas: int, max_deliver: int) -> None:
    js = nc.jetstream()
    for spec in STREAMS:
        config = _stream_config(spec.name, replicas)
        try:
            # Creating a stream that exists with the same configuration is a no-op; updating
            # one that other services are creating at the same moment stalls a forming cluster.
            await js.add_stream(config)
        except BadRequestError:
            await js.update_stream(config)  # it exists, configured otherwise
    for cspec in CONSUMERS.values():
        consumer = ConsumerConfig(
            durable_name=cspec.durable,
            ack_policy=AckPolicy.EXPLICIT,
            deliver_policy=DeliverPolicy.ALL,
            ack_wait=cspec.ack_wait_s,
            max_deliver=max_deliver,
            max_ack_pending=cspec.max_ack_pending,
            filter_subjects=cspec.filter_subjects,
        )
        await js.add_consumer(cspec.stream, consumer)
