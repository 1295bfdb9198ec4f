"""A batch mode beside the per-message consumer: one handler call, one transaction, many messages.

A handler that writes one transaction per message is bound by database round trips; given
the whole fetched batch it can do the same work in a few statements. If the batch fails,
each message is handled on its own through the ordinary path, so one bad message is
retried or dead-lettered alone and never holds up the others. A fetched batch is kept alive
with in-progress acks from its fetch until it is settled, however long the one before it
and its own handling take.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import msgspec
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.errors import ConnectionClosedError

from shared.bus.channels import Inbox
from shared.bus.consumer import Consumer
from shared.bus.keepalive import kept_alive
from shared.bus.pull import Puller
from shared.messages import Message
from shared.metrics import CONSUMER_PENDING, HANDLER_SECONDS, MESSAGES_HANDLED

log = logging.getLogger(__name__)

T = TypeVar("T")
M = TypeVar("M", bound=Message)

BatchHandler = Callable[[list[T]], Awaitable[None]]


class BatchConsumer(Consumer[T]):
    """Runs one durable pull consumer whose handler takes every message of a fetch at once."""

    def __init__(
        self,
        nc: Client,
        durable: str,
        message_type: Any,
        handler: BatchHandler[T],
        *,
        max_deliver: int = 8,
        batch: int = 0,
    ) -> None:
        super().__init__(nc, durable, message_type, self._one, max_deliver=max_deliver)
        self._batch_handler = handler
        self._batch = batch or self.spec.fetch_batch

    @classmethod
    def of(
        cls, nc: Client, inbox: Inbox[M], handler: BatchHandler[M], *, max_deliver: int, batch: int
    ) -> BatchConsumer[M]:
        """The consumer of a typed inbox (shared/bus/channels.py): mypy checks the handler."""
        return BatchConsumer(
            nc, inbox.durable, inbox.decodes, handler, max_deliver=max_deliver, batch=batch
        )

    async def _one(self, message: T) -> None:
        await self._batch_handler([message])

    async def _run(self) -> None:
        puller = Puller(self._nc, self.spec.stream, self.spec.durable)
        await puller.start()
        try:
            await self._pull(puller)
        finally:
            await puller.stop()

    async def _pull(self, puller: Any) -> None:
        # The next batch is fetched while the last one is handled; batches are still handled
        # one after the other, in order.
        in_hand: asyncio.Task[None] | None = None
        while not self._stopping.is_set():
            try:
                msgs = await puller.fetch(self._batch, timeout=1.0)
            except ConnectionClosedError:
                break
            except Exception:  # the server may be restarting: keep trying
                log.warning("fetch failed on %s", self.spec.durable, exc_info=True)
                await asyncio.sleep(0.5)
                continue
            if not msgs:
                continue
            if in_hand is not None:
                # Fetched ahead, these wait for the batch in hand: kept alive meanwhile.
                async with kept_alive(msgs, self.spec.ack_wait_s):
                    await in_hand
            in_hand = asyncio.create_task(self._settle(msgs))
        if in_hand is not None:
            await in_hand

    async def _settle(self, msgs: list[Msg]) -> None:
        try:
            async with kept_alive(msgs, self.spec.ack_wait_s):
                await self.handle_batch(msgs)
        except Exception:  # an ack lost with the connection: redelivery will follow
            log.warning("could not settle a batch on %s", self.spec.durable, exc_info=True)
        if msgs:
            CONSUMER_PENDING.labels(self.spec.durable).set(msgs[-1].metadata.num_pending)

    async def handle_batch(self, msgs: list[Msg]) -> None:
        """Decode the batch, handle it in one call and ack it; on failure, one at a time."""
        durable = self.spec.durable
        good: list[Msg] = []
        decoded: list[T] = []
        for msg in msgs:
            try:
                decoded.append(self._decoder.decode(msg.data))
            except (msgspec.DecodeError, msgspec.ValidationError):
                await self.handle(msg)  # the per-message path dead-letters and counts it
                continue
            good.append(msg)
        if not good:
            return
        started = time.perf_counter()
        try:
            async with asyncio.timeout(self.spec.max_work_s):
                await self._batch_handler(decoded)
        except Exception as exc:
            log.warning("%s: batch of %d failed (%r); one at a time", durable, len(good), exc)
            for msg in good:
                await self.handle(msg)
            return
        finally:
            HANDLER_SECONDS.labels(durable).observe(time.perf_counter() - started)
        for msg in good:
            await msg.ack()
        MESSAGES_HANDLED.labels(durable, "ok").inc(len(good))
