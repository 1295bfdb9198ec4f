"""Dead letters: copies on `dead.<consumer>` of what a consumer could not handle, to replay.

A consumer copies a message it gives up on itself (undecodable, permanent, or failed on
its last delivery). A message whose deliveries all timed out never reached that code: its
handler hung, or its replica died each time (a message that crashes the process does so on
the last delivery too). The server says so with a MAX_DELIVERIES advisory, which the
EXHAUSTED stream keeps (whether or not a replica is up at that moment); each service's
`<service>-exhausted` consumer reads those of its own consumers and copies the message
from its stream. Both copies of one message share a Nats-Msg-Id, so it is kept once.
"""

from __future__ import annotations

import contextlib
import logging

import msgspec
from nats.aio.client import Client
from nats.js.errors import NotFoundError

from shared.bus.topology import DEAD_LETTER_SUBJECT, STREAMS
from shared.metrics import MESSAGES_HANDLED

log = logging.getLogger(__name__)


class MaxDeliveries(msgspec.Struct, kw_only=True):
    """The server's advisory `io.nats.jetstream.advisory.v1.max_deliver`: what we read of it."""

    stream: str
    consumer: str
    stream_seq: int
    deliveries: int = 0


async def publish(
    nc: Client,
    consumer: str,
    subject: str,
    seq: int,
    data: bytes,
    headers: dict[str, str] | None,
    reason: str,
) -> None:
    """Copy a message (its data, headers and original subject) to `dead.<consumer>`."""
    kept = dict(headers or {})
    kept.update(
        {
            "Anshin-Dead-Reason": reason[:500].replace("\n", " "),
            "Anshin-Dead-Subject": subject,
            "Anshin-Dead-Consumer": consumer,
            "Nats-Msg-Id": f"dead:{consumer}:{seq}",
        }
    )
    await nc.jetstream().publish(DEAD_LETTER_SUBJECT.format(consumer=consumer), data, headers=kept)
    log.error("%s: dead-lettered stream seq %s: %s", consumer, seq, reason[:200])


async def on_max_deliveries(advisory: MaxDeliveries, *, nc: Client) -> None:
    """Copy a message whose deliveries all ran out without a settlement to the dead letters."""
    try:
        raw = await nc.jetstream().get_msg(advisory.stream, advisory.stream_seq)
    except NotFoundError:  # aged out or replaced (one per subject) meanwhile: nothing to keep
        log.warning(
            "%s: stream seq %s exhausted its deliveries and is gone",
            advisory.consumer,
            advisory.stream_seq,
        )
        return
    reason = (
        f"no answer to any of its {advisory.deliveries} deliveries"
        " (its handler timed out, or its replica died, each time)"
    )
    subject, data = raw.subject or "", raw.data or b""
    seq = advisory.stream_seq
    await publish(nc, advisory.consumer, subject, seq, data, raw.headers, reason)
    MESSAGES_HANDLED.labels(advisory.consumer, "dead").inc()
    spec = next((s for s in STREAMS if s.name == advisory.stream), None)
    if spec is not None and (spec.work_queue or spec.interest):
        # Such a stream keeps a message until it is settled, and this one never will be: the
        # dead letter is its copy now, as it would be of a message the consumer terminated.
        with contextlib.suppress(NotFoundError):
            await nc.jetstream().delete_msg(advisory.stream, seq)
