"""Publishing to JetStream without waiting for each ack: one ack inbox per connection.

nats-py's `publish_async` has two flaws this avoids. Each JetStream context subscribes to
an inbox of its own for the acks, for the life of the connection (a context per call left
a subscription per call behind). And an error that JetStream answers (a message refused,
a stream without a leader) is raised inside its subscription's callback instead of on the
message's future (nats-io/nats.py#985, open in 2.16.0), so the future waited out the
timeout, and a refused message looked like an outage.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from typing import Any

from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js.api import PubAck
from nats.js.errors import APIError, NoStreamResponseError

_ACKS = "_anshin_acks"
_NO_RESPONDERS = "503"  # the status of a reply when no stream takes the subject


class Acks:
    """The acks of one connection's asynchronous publishes, matched by reply subject."""

    def __init__(self, nc: Client) -> None:
        self._nc = nc
        self._prefix = nc.new_inbox()
        self._tokens = itertools.count()
        self._waiting: dict[str, asyncio.Future[PubAck]] = {}
        self._inbox: asyncio.Future[Any] | None = None

    async def publish(
        self, subject: str, payload: bytes, headers: dict[str, str]
    ) -> asyncio.Future[PubAck]:
        """Send one message; return the future of its ack (or of JetStream's refusal)."""
        if self._inbox is None:  # once, and no message goes out before it is subscribed
            self._inbox = asyncio.ensure_future(
                self._nc.subscribe(f"{self._prefix}.*", cb=self._answered)
            )
        await self._inbox
        token = str(next(self._tokens))
        future: asyncio.Future[PubAck] = asyncio.get_running_loop().create_future()
        self._waiting[token] = future
        # Whoever stops waiting (an ack, a timeout, a cancel) lets the table forget it.
        future.add_done_callback(lambda _: self._waiting.pop(token, None))
        try:
            await self._nc.publish(
                subject, payload, reply=f"{self._prefix}.{token}", headers=headers
            )
        except BaseException:
            future.cancel()
            raise
        return future

    async def _answered(self, msg: Msg) -> None:
        future = self._waiting.get(msg.subject.rpartition(".")[2])
        if future is None or future.done():
            return
        if msg.headers and msg.headers.get("Status") == _NO_RESPONDERS:
            future.set_exception(NoStreamResponseError())
            return
        try:
            answer = json.loads(msg.data)
            if "error" in answer:
                future.set_exception(api_error(answer["error"]))
            else:
                future.set_result(PubAck.from_response(answer))
        except Exception as exc:  # an answer that is not JetStream's: the message's failure
            future.set_exception(exc)


def acks(nc: Client) -> Acks:
    """The connection's one Acks, made at first use; it goes with the connection."""
    found: Acks | None = nc.__dict__.get(_ACKS)
    if found is None:
        found = nc.__dict__[_ACKS] = Acks(nc)
    return found


def api_error(error: dict[str, Any]) -> APIError:
    """The exception nats-py means for a JetStream error answer (its factory raises it)."""
    try:
        APIError.from_error(error)
    except APIError as exc:
        return exc
    return APIError(**error)
