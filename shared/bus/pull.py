"""A lean pull of whole batches from a durable consumer, for the batch consumer.

nats-py's `fetch` waits for each message with its own timeout task, which costs more than
handling an order; here the messages of a pull request land in a list from a plain
subscription callback. Every message delivered to the inbox is kept until taken, even one
that arrives after its request was given up, so nothing delivered is dropped unacked.
"""

from __future__ import annotations

import asyncio
import contextlib
import json

from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription

_STATUS = "Status"
_HEARTBEAT = "100"


class Puller:
    """Pull requests for one durable consumer, answered into one inbox."""

    def __init__(self, nc: Client, stream: str, durable: str) -> None:
        self._nc = nc
        self._subject = f"$JS.API.CONSUMER.MSG.NEXT.{stream}.{durable}"
        self._inbox = nc.new_inbox()
        self._buffer: list[Msg] = []
        self._expected = 0
        self._changed = asyncio.Event()
        self._sub: Subscription | None = None

    async def start(self) -> None:
        """Subscribe to the inbox."""
        self._sub = await self._nc.subscribe(self._inbox, cb=self._on_msg)

    async def stop(self) -> None:
        """Unsubscribe; what was delivered and not taken comes back after its ack wait."""
        if self._sub is not None:
            with contextlib.suppress(Exception):
                await self._sub.unsubscribe()

    async def _on_msg(self, msg: Msg) -> None:
        status = msg.headers.get(_STATUS) if msg.headers else None
        if status == _HEARTBEAT:
            return
        if status:  # 404 no messages, 408 request expired, 409 and the like: the request ends
            self._expected = 0
        else:
            self._buffer.append(msg)
            self._expected = max(0, self._expected - 1)
        self._changed.set()

    async def fetch(self, batch: int, timeout: float) -> list[Msg]:
        """Up to `batch` messages: what is available now, else the first to come within
        `timeout`; an empty list when none came."""
        if not self._buffer and self._expected == 0:
            await self._request({"batch": batch, "no_wait": True}, batch, timeout)
        if not self._buffer and self._expected == 0:
            # Nothing waiting: wait for the next message, then fetch the rest at once.
            expires = int(timeout * 1e9)
            await self._request({"batch": 1, "expires": expires}, 1, timeout + 1.0)
        taken, self._buffer = self._buffer[:batch], self._buffer[batch:]
        return taken

    async def _request(self, body: dict[str, object], batch: int, timeout: float) -> None:
        self._expected = batch
        self._changed.clear()
        await self._nc.publish(self._subject, json.dumps(body).encode(), reply=self._inbox)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                while self._expected:
                    await self._changed.wait()
                    self._changed.clear()
        self._expected = 0  # a request given up is not waited for again
