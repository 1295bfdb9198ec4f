"""Dead letters (stream DEAD, subjects dead.<consumer>): list them, replay one once.

A replay republishes the original payload to its original subject with the Nats-Msg-Id
`replay:<DEAD sequence>`; a row of `dead_letter_replays`, written in the transaction that
publishes, makes a second replay of the same dead letter a Conflict. Every consumer of
that subject sees the replay: they are idempotent, so only the one that failed acts.

A letter of consumer `outbox:<schema>` is a notice from a service's outbox relay: a row the
bus refused (too large, most often) and set aside in that schema's `outbox_dead` table. It
is listed like the others, with the original size, but never replayed from here: the
notice is not the message, which never travelled.
"""

from __future__ import annotations

from datetime import datetime

import asyncpg
import msgspec
from nats.aio.client import Client
from nats.js.errors import NotFoundError as JsNotFound

from services.advisory.desk.console import store as store_console
from shared.bus import STREAMS
from shared.errors import Conflict, Invalid, NotFound, field_error

STREAM = "DEAD"
REASON, SUBJECT, CONSUMER = "Anshin-Dead-Reason", "Anshin-Dead-Subject", "Anshin-Dead-Consumer"
SIZE = "Anshin-Dead-Size"  # an outbox notice's: the size of the row, not of the notice
OUTBOX = "outbox:"  # the consumer of a notice from a relay: outbox:<schema>
# Headers that described the dead letter, not the original message.
_DROPPED = {REASON, SUBJECT, CONSUMER, SIZE, "Nats-Msg-Id", "Nats-Expected-Stream"}


class DeadLetter(msgspec.Struct, frozen=True, kw_only=True):
    """One dead letter as operators see it (not its payload: it may name a customer)."""

    seq: int
    consumer: str
    subject: str
    reason: str
    time: datetime | None
    size: int
    replayed_at: datetime | None = None

    @property
    def kept_in(self) -> str:
        """Where an outbox row set aside is kept (its schema's outbox_dead); "" for others."""
        schema = self.consumer.removeprefix(OUTBOX)
        return f"{schema}.outbox_dead" if schema != self.consumer else ""


async def recent(nc: Client, pool: asyncpg.Pool, limit: int = 50) -> tuple[int, list[DeadLetter]]:
    """How many dead letters the stream holds, and the latest `limit` of them, newest first."""
    js = nc.jetstream()
    try:
        state = (await js.stream_info(STREAM)).state
    except JsNotFound:
        return 0, []
    found: list[DeadLetter] = []
    seq = state.last_seq
    while seq >= max(state.first_seq, 1) and len(found) < limit:
        try:
            raw = await js.get_msg(STREAM, seq)
        except JsNotFound:  # deleted or aged out meanwhile
            seq -= 1
            continue
        found.append(_letter(raw))
        seq -= 1
    done = await store_console.replays(pool, [d.seq for d in found])
    letters = [msgspec.structs.replace(d, replayed_at=done.get(d.seq)) for d in found]
    return state.messages, letters


def _letter(raw: object) -> DeadLetter:
    headers = getattr(raw, "headers", None) or {}
    data = getattr(raw, "data", None) or b""
    return DeadLetter(
        seq=int(getattr(raw, "seq", 0) or 0),
        consumer=headers.get(CONSUMER, ""),
        subject=headers.get(SUBJECT, ""),
        reason=headers.get(REASON, ""),
        time=getattr(raw, "time", None),
        size=int(headers.get(SIZE) or len(data)),
    )


def _replayable(subject: str) -> bool:
    """Only subjects of Anshin's own streams, never the dead letters' own."""
    for spec in STREAMS:
        if spec.name == STREAM:
            continue
        for pattern in spec.subjects:
            prefix = pattern.removesuffix(">")
            if subject == pattern or (pattern.endswith(">") and subject.startswith(prefix)):
                return True
    return False


async def replay(nc: Client, pool: asyncpg.Pool, seq: int, now: datetime) -> str:
    """Republish dead letter `seq` to its original subject, once; return the new Nats-Msg-Id."""
    js = nc.jetstream()
    try:
        raw = await js.get_msg(STREAM, seq)
    except JsNotFound:
        raise NotFound(f"no dead letter {seq}") from None
    headers = dict(raw.headers or {})
    subject = headers.get(SUBJECT, "")
    kept_in = _letter(raw).kept_in
    if kept_in:
        problem = f"the message never reached the bus; its payload is kept in {kept_in}"
        raise Invalid(
            f"dead letter {seq} is an outbox row set aside; its payload is kept in {kept_in}",
            [field_error("seq", problem)],
        )
    if not _replayable(subject):
        problem = f"original subject {subject!r} is not one of Anshin's streams"
        raise Invalid("cannot replay", [field_error("subject", problem)])
    async with pool.acquire() as conn, conn.transaction():
        replay_id = await store_console.claim_replay(
            conn, seq, headers.get("Nats-Msg-Id", ""), headers.get(CONSUMER, ""), subject, now
        )
        if replay_id is None:
            raise Conflict(f"dead letter {seq} was replayed already")
        kept = {k: v for k, v in headers.items() if k not in _DROPPED}
        # Published inside the transaction: if it fails, no replay is recorded; if the
        # commit fails after it, the same Nats-Msg-Id makes a retry a duplicate.
        await js.publish(subject, raw.data or b"", headers=kept | {"Nats-Msg-Id": replay_id})
    return replay_id
