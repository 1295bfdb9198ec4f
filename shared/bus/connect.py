"""Connecting to NATS and declaring the streams and consumers, idempotently."""

from __future__ import annotations

import logging

import nats
from nats.aio.client import Client
from nats.js.api import (
    AckPolicy,
    ConsumerConfig,
    DeliverPolicy,
    RetentionPolicy,
    StorageType,
    StreamConfig,
)
from nats.js.errors import BadRequestError, NotFoundError

from shared.bus.topology import CONSUMERS, STREAMS

log = logging.getLogger(__name__)


async def connect(url: str, name: str) -> Client:
    """Connect to NATS (`url` may list several servers, comma-separated), retrying for ever."""
    return await nats.connect(
        servers=[server.strip() for server in url.split(",") if server.strip()],
        name=name,
        max_reconnect_attempts=-1,
        reconnect_time_wait=0.5,
        connect_timeout=2,
        allow_reconnect=True,
    )


def _stream_config(spec_name: str, replicas: int) -> StreamConfig:
    spec = next(s for s in STREAMS if s.name == spec_name)
    return StreamConfig(
        name=spec.name,
        subjects=spec.subjects,
        storage=StorageType.FILE,
        retention=RetentionPolicy.WORK_QUEUE if spec.work_queue else RetentionPolicy.LIMITS,
        duplicate_window=spec.duplicate_window_s,
        max_age=spec.max_age_days * 86400 if spec.max_age_days else None,
        num_replicas=replicas,
    )


async def declare(nc: Client, *, replicas: int = 1, max_deliver: int = 8) -> None:
    """Create or update every stream and durable consumer; safe to run from every replica."""
    js = nc.jetstream()
    for spec in STREAMS:
        config = _stream_config(spec.name, replicas)
        try:
            await js.update_stream(config)
        except NotFoundError:
            try:
                await js.add_stream(config)
            except BadRequestError:
                # Another replica created it between our two calls.
                await js.update_stream(config)
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
