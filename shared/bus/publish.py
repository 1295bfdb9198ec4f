"""Publishing to JetStream with a `Nats-Msg-Id` that names the fact."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable

from nats.aio.client import Client
from nats.js.api import PubAck
from nats.js.client import JetStreamContext

from shared.bus.acks import acks
from shared.bus.size import wire_size
from shared.messages import Message, encode

_CONTEXT = "_anshin_jetstream"


class PayloadTooLarge(Exception):
    """A message larger than the server's max_payload: the server would close the connection."""


def msg_id_header(msg_id: str) -> dict[str, str]:
    """Return the headers that let JetStream drop a duplicate of this fact."""
    return {"Nats-Msg-Id": msg_id}


def jetstream(nc: Client) -> JetStreamContext:
    """The connection's one JetStream context, made at first use; it goes with the connection."""
    js: JetStreamContext | None = nc.__dict__.get(_CONTEXT)
    if js is None:
        js = nc.__dict__[_CONTEXT] = nc.jetstream()
    return js


async def publish(nc: Client, subject: str, message: Message, msg_id: str) -> PubAck:
    """Publish one message and wait until JetStream has stored it."""
    return await jetstream(nc).publish(subject, encode(message), headers=msg_id_header(msg_id))


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
    outcomes = await publish_each(nc, items, window=window, timeout=timeout)
    for outcome in outcomes:
        if outcome is not None:
            raise outcome
    return len(outcomes)


async def publish_each(
    nc: Client,
    items: Iterable[tuple[str, bytes, str]],
    *,
    window: int = 2000,
    timeout: float = 30.0,
) -> list[Exception | None]:
    """Publish like publish_many; return, for each item in order, None or why it failed.

    An item larger than the server's max_payload is never sent (PayloadTooLarge): the server
    would close the connection, and every other message on it would fail too.
    """
    sender = acks(nc)
    outcomes: list[Exception | None] = []
    pending: list[tuple[int, asyncio.Future[PubAck]]] = []
    try:
        for subject, payload, msg_id in items:
            headers = msg_id_header(msg_id)
            size = wire_size(payload, headers)
            if size > nc.max_payload:
                why = f"over max_payload {nc.max_payload}: {size} bytes with its headers"
                outcomes.append(PayloadTooLarge(why))
                continue
            future = await sender.publish(subject, payload, headers)
            outcomes.append(None)
            pending.append((len(outcomes) - 1, future))
            if len(pending) >= window:
                await _acks(pending, outcomes, timeout)
                pending.clear()
        if pending:
            await _acks(pending, outcomes, timeout)
    finally:
        for _, future in pending:
            # A lost ack, or a caller that stopped waiting, leaves nothing behind.
            future.cancel()
    return outcomes


async def _acks(
    pending: list[tuple[int, asyncio.Future[PubAck]]],
    outcomes: list[Exception | None],
    timeout: float,
) -> None:
    """Wait up to `timeout` for the acks; note each failure in `outcomes`."""
    with contextlib.suppress(TimeoutError):
        # asyncio.timeout, not wait_for, which on Python 3.11 can swallow a cancel of the caller.
        async with asyncio.timeout(timeout):
            await asyncio.wait([future for _, future in pending])
    for index, future in pending:
        if not future.done():
            future.cancel()
            outcomes[index] = TimeoutError(f"no ack within {timeout} s")
        elif future.cancelled():
            outcomes[index] = TimeoutError("its ack was given up")
        elif (error := future.exception()) is not None:
            outcomes[index] = error if isinstance(error, Exception) else RuntimeError(error)
