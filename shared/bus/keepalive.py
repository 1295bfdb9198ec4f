"""In-progress acks for the messages in hand, so long work is never handed out again mid-way.

JetStream redelivers a message that is not acknowledged within the consumer's `ack_wait`,
whether its handler died or is merely slow: a fetch of many `orders.batch` messages took
longer than that and came back whole while still being stored. While a message is held
here, a timer tells the server every third of `ack_wait` that it is still being worked on
(`+WPI`); a dead process sends nothing, so its messages come back after `ack_wait`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Sequence

from nats.aio.msg import Msg

log = logging.getLogger(__name__)


def progress_every(ack_wait_s: float) -> float:
    """Seconds between in-progress acks: three chances before the ack wait runs out."""
    return ack_wait_s / 3


async def _tell(msgs: Sequence[Msg], every: float) -> None:
    while True:
        await asyncio.sleep(every)
        for msg in msgs:
            if msg.is_acked:  # settled meanwhile: acked, nak'd or terminated
                continue
            try:
                await msg.in_progress()
            except Exception:  # reconnecting: the next round, or the redelivery, will do
                log.debug("in-progress ack not sent", exc_info=True)


@contextlib.asynccontextmanager
async def kept_alive(msgs: Sequence[Msg], ack_wait_s: float) -> AsyncIterator[None]:
    """Keep `msgs` from being redelivered while the block runs."""
    task = asyncio.create_task(_tell(msgs, progress_every(ack_wait_s)), name="in-progress")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
