"""Publishing to JetStream with a `Nats-Msg-Id` that names the fact."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from nats.aio.client import Client
from nats.js.api import PubAck

from shared.messages import Message, encode


def msg_id_header(msg_id: str) -> dict[str, str]:
    """Return the headers that let JetStream drop a duplicate of this fact."""
    return {"Nats-Msg-Id": msg_id}


async def publish(nc: Client, subject: str, message: Message, msg_id: str) -> PubAck:
    """Publish one message and wait until JetStream has stored it."""
    return await nc.jetstream().publish(subject, encode(message), headers=msg_id_header(msg_id))


async def publish_many(
    nc: Client,
    items: Iterable[tuple[str, bytes, str]],
    *,
    window: int = 2000,
    timeout: float = 30.0,
) -> int:
    """Publish pre-encoded (subject, payload, msg_id) triples without waiting for each ack.

    Keeps at most `window` acks outstanding and raises if any publish failed, so the
    caller can retry the whole set; duplicates are dropped by their Nats-Msg-Id.
    """
    js = nc.jetstream()
    pending: list[asyncio.Future[PubAck]] = []
    count = 0
    for subject, payload, msg_id in items:
        pending.append(await js.publish_async(subject, payload, headers=msg_id_header(msg_id)))
        count += 1
        if len(pending) >= window:
            await _acks(pending, timeout)
            pending.clear()
    if pending:
        await _acks(pending, timeout)
    return count


async def _acks(pending: list[asyncio.Future[PubAck]], timeout: float) -> None:
    # asyncio.timeout, not wait_for, which on Python 3.11 can swallow a cancel of the caller.
    async with asyncio.timeout(timeout):
        await asyncio.gather(*pending)
