"""Request-reply responders (`matcher.audience`, `mailer.report`, `ingest.catalog.lookup`).

Replicas of a service share the questions in one queue group. A question that cannot be
decoded, or whose answer fails, gets no reply: the asker's timeout tells it that nobody knows.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import msgspec
from aiohttp import web
from nats.aio.msg import Msg

from shared.http import NATS
from shared.messages import Message, encode

log = logging.getLogger(__name__)

Answer = Callable[[Any], Awaitable[Message]]


def responder(
    subject: str, queue: str, question: Any, answerer: Callable[[web.Application], Answer]
) -> Callable[[web.Application], contextlib.AbstractAsyncContextManager[None]]:
    """A cleanup context answering `question`s on `subject` with what `answerer(app)` returns."""
    decoder: msgspec.json.Decoder[Any] = msgspec.json.Decoder(question)

    @contextlib.asynccontextmanager
    async def ctx(app: web.Application) -> AsyncIterator[None]:
        answer = answerer(app)

        async def on_question(msg: Msg) -> None:
            try:
                asked = decoder.decode(msg.data)
            except (msgspec.DecodeError, msgspec.ValidationError) as exc:
                log.warning("undecodable question on %s: %s", subject, exc)
                return
            try:
                reply = await answer(asked)
            except Exception:
                log.exception("answering %s failed", subject)
                return
            await msg.respond(encode(reply))

        sub = await app[NATS].subscribe(subject, queue=queue, cb=on_question)
        yield
        with contextlib.suppress(Exception):
            await sub.unsubscribe()

    return ctx
