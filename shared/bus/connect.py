"""Connecting to NATS and declaring the streams and consumers, idempotently."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

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
from nats.js.errors import BadRequestError, NotFoundError, ServiceUnavailableError

from shared.bus import size
from shared.bus.permissions import inbox_prefix, owned_streams, used_streams
from shared.bus.roles import ROLES, RoleSpec
from shared.bus.topology import CONSUMERS, STREAMS
from shared.config import Settings

log = logging.getLogger(__name__)


async def connect(url: str, name: str, *, user: str = "", password: str = "") -> Client:
    """Connect to NATS (`url` may list several servers, comma-separated), retrying for ever.

    With a `user` (a role of shared/bus/topology.py), replies and pulled messages come to
    that role's own inbox prefix, the only one its permissions let it subscribe to.
    """
    credentials: dict[str, Any] = {}
    if user:
        credentials = {"user": user, "password": password, "inbox_prefix": inbox_prefix(user)}
    nc = await nats.connect(
        servers=[server.strip() for server in url.split(",") if server.strip()],
        name=name,
        error_cb=_report,
        max_reconnect_attempts=-1,
        reconnect_time_wait=0.5,
        connect_timeout=2,
        allow_reconnect=True,
        **credentials,
    )
    size.heard(nc)
    return nc


async def _report(exc: Exception) -> None:
    # One line, no traceback: a refused password or a forbidden subject names itself here.
    log.warning("NATS: %s", exc)


async def connect_as(settings: Settings, name: str) -> Client:
    """Connect to the settings' NATS as their user (ANSHIN_NATS_USER), if any."""
    return await connect(
        settings.nats_url, name, user=settings.nats_user, password=settings.nats_password
    )


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


async def declare(nc: Client, *, role: str = "", replicas: int = 1, max_deliver: int = 8) -> None:
    """Create or update the streams and durable consumers; safe to run from every replica.

    A `role` declares what it may (shared/bus/permissions.py): the streams it publishes to,
    created or updated; the streams it consumes, created if still missing, so that it can
    start before their publisher; and its own consumers. Without one, everything.

    A cluster that is still forming, or creating replicated streams for other services at
    the same moment, can leave a JetStream request unanswered for a while: try again.
    """
    if role and role not in ROLES:
        raise ValueError(f"NATS user {role!r} is none of the roles in shared/bus/topology.py")
    for attempt in range(1, DECLARE_TRIES + 1):
        try:
            await _declare(nc, ROLES[role] if role else None, replicas, max_deliver)
            return
        except (nats.errors.TimeoutError, ServiceUnavailableError):
            if attempt == DECLARE_TRIES:
                raise
            log.warning("JetStream did not answer the declaration; retrying", exc_info=True)
            await asyncio.sleep(attempt)


async def _declare(nc: Client, role: RoleSpec | None, replicas: int, max_deliver: int) -> None:
    js = nc.jetstream()
    owned = owned_streams(role) if role else [s.name for s in STREAMS]
    for name in owned:
        config = _stream_config(name, replicas)
        try:
            # Creating a stream that exists with the same configuration is a no-op; updating
            # one that other services are creating at the same moment stalls a forming cluster.
            await js.add_stream(config)
        except BadRequestError:
            await js.update_stream(config)  # it exists, configured otherwise
    for name in used_streams(role) if role else []:
        # Its publisher keeps its configuration; a consumer only makes sure it exists.
        with contextlib.suppress(BadRequestError):  # created meanwhile, configured otherwise
            try:
                await js.stream_info(name)
            except NotFoundError:
                await js.add_stream(_stream_config(name, replicas))
    for cspec in (CONSUMERS[d] for d in role.consumes) if role else CONSUMERS.values():
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
