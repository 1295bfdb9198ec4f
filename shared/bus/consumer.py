"""The consumer loop: fetch in batches, ack after success, nak with delay, dead-letter poison.

Messages in hand are kept alive with in-progress acks while they wait and while they are
handled (`keepalive`), so only a dead replica's messages come back after `ack_wait`; a
handler that runs past `max_work_s` is given up on and its message retried.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

import msgspec
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.errors import ConnectionClosedError
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js.errors import FetchTimeoutError

from shared.bus import dead
from shared.bus.keepalive import kept_alive
from shared.bus.topology import CONSUMERS
from shared.metrics import CONSUMER_PENDING, HANDLER_SECONDS, MESSAGES_HANDLED

log = logging.getLogger(__name__)

T = TypeVar("T")


class PermanentError(Exception):
    """A message that will never succeed however often it is retried: dead-letter it."""


Handler = Callable[[T], Awaitable[None]]


def backoff(attempt: int) -> float:
    """Seconds before redelivery of a message that failed `attempt` times."""
    return float(min(60, 2 ** max(0, attempt - 1)))


class Consumer(Generic[T]):
    """Runs one durable pull consumer: decode, handle, ack; shared by all replicas."""

    def __init__(
        self,
        nc: Client,
        durable: str,
        message_type: Any,
        handler: Handler[T],
        *,
        max_deliver: int = 8,
    ) -> None:
        self.spec = CONSUMERS[durable]
        self._nc = nc
        self._decoder: msgspec.json.Decoder[Any] = msgspec.json.Decoder(message_type)
        self._handler = handler
        self._max_deliver = max_deliver
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()

    def start(self) -> None:
        """Start pulling in the background."""
        self._task = asyncio.create_task(self._run(), name=f"consumer:{self.spec.durable}")

    async def stop(self) -> None:
        """Finish the message in hand, then stop pulling."""
        self._stopping.set()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        js = self._nc.jetstream()
        sub = await js.pull_subscribe_bind(durable=self.spec.durable, stream=self.spec.stream)
        try:
            await self._pull(sub)
        finally:
            # An open pull subscription would hold up the connection's drain at shutdown.
            with contextlib.suppress(Exception):
                await sub.unsubscribe()

    async def _pull(self, sub: Any) -> None:
        while not self._stopping.is_set():
            try:
                msgs = await sub.fetch(self.spec.fetch_batch, timeout=1.0)
            # nats-py raises its own timeouts or asyncio's, depending on where the wait ended.
            except (FetchTimeoutError, NatsTimeoutError, TimeoutError):
                # Nothing waiting for this replica: a stale lag would keep an alert firing.
                CONSUMER_PENDING.labels(self.spec.durable).set(0)
                continue
            except ConnectionClosedError:
                break
            except Exception:  # the server may be restarting: keep trying
                log.warning("fetch failed on %s", self.spec.durable, exc_info=True)
                await asyncio.sleep(0.5)
                continue
            async with kept_alive(msgs, self.spec.ack_wait_s):
                for msg in msgs:
                    try:
                        await self.handle(msg)
                    except Exception:  # an ack lost with the connection: redelivery follows
                        log.warning(
                            "could not settle a message on %s", self.spec.durable, exc_info=True
                        )
            if msgs:
                CONSUMER_PENDING.labels(self.spec.durable).set(msgs[-1].metadata.num_pending)

    async def handle(self, msg: Msg) -> None:
        """Decode and handle one message, then ack, nak or dead-letter it."""
        durable = self.spec.durable
        try:
            message = self._decoder.decode(msg.data)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            await self._dead_letter(msg, f"undecodable: {exc}")
            MESSAGES_HANDLED.labels(durable, "poison").inc()
            return
        started = time.perf_counter()
        try:
            # Kept alive, a handler that hangs would hold its message for ever: give up on it.
            async with asyncio.timeout(self.spec.max_work_s):
                await self._handler(message)
        except PermanentError as exc:
            await self._dead_letter(msg, f"permanent: {exc}")
            MESSAGES_HANDLED.labels(durable, "dead").inc()
            return
        except Exception as exc:
            attempt = msg.metadata.num_delivered or 1
            if attempt >= self._max_deliver:
                await self._dead_letter(msg, f"gave up after {attempt} attempts: {exc!r}")
                MESSAGES_HANDLED.labels(durable, "dead").inc()
            else:
                log.warning("%s: attempt %d failed: %r", durable, attempt, exc)
                await msg.nak(delay=backoff(attempt))
                MESSAGES_HANDLED.labels(durable, "retry").inc()
            return
        finally:
            HANDLER_SECONDS.labels(durable).observe(time.perf_counter() - started)
        await msg.ack()
        MESSAGES_HANDLED.labels(durable, "ok").inc()

    async def _dead_letter(self, msg: Msg, reason: str) -> None:
        """Copy the message to the dead-letter stream, then stop its redelivery."""
        seq = msg.metadata.sequence.stream
        await dead.publish(
            self._nc, self.spec.durable, msg.subject, seq, msg.data, msg.headers, reason
        )
        await msg.term()
