"""Attacks on the bus with a service's own NATS credentials, as a compromised service would try.

Each attack connects as a role of shared/bus/topology.py to a server that has the users of
production (deploy.local_env.secured_nats), tries every way it knows, and reports each attempt
with whether it succeeded: a PubAck, a reconfigured stream, or a payload in hand.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import nats
import nats.errors
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js.api import StreamConfig

from shared import bus
from shared.bus import Subjects
from shared.bus.permissions import inbox_prefix

WAIT = 1.0  # seconds an attempt waits for an answer that a refused request never gets
SECRET = b'{"type":"delivery.requested","secret":"only-the-mailer-may-read-this"}'


@dataclass
class Attempts:
    """What an attacker tried, and which attempts got through."""

    tried: list[str] = field(default_factory=list)
    succeeded: list[str] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)  # what the server answered, as errors

    async def attempt(self, what: str, act: Callable[[], Awaitable[bool]]) -> None:
        """Run one attempt: `act` returns whether it got through; a refusal raises or is False."""
        self.tried.append(what)
        try:
            got_through = await act()
        except (nats.errors.Error, TimeoutError):
            got_through = False
        if got_through:
            self.succeeded.append(what)


@contextlib.asynccontextmanager
async def connected(url: str, role: str, password: str) -> AsyncIterator[tuple[Client, list[str]]]:
    """A connection as `role`, collecting the errors the server sends (permission violations)."""
    errors: list[str] = []

    async def on_error(exc: Exception) -> None:
        errors.append(str(exc))

    nc = await nats.connect(
        url,
        user=role,
        password=password,
        inbox_prefix=inbox_prefix(role),
        error_cb=on_error,
        allow_reconnect=False,
    )
    try:
        yield nc, errors
    finally:
        await nc.close()


async def as_service(url: str, role: str, password: str) -> Client:
    """A connection as the service itself makes it, its streams and consumers declared."""
    nc = await bus.connect(url, role, user=role, password=password)
    await bus.declare(nc, role=role)
    return nc


async def matcher_publishes_advisories(url: str, passwords: dict[str, str]) -> Attempts:
    """The matcher's credentials try to publish an advisory, skipping embargo and agency."""
    found = Attempts()
    advisory = await as_service(url, "advisory", passwords["advisory"])
    try:
        async with connected(url, "matcher", passwords["matcher"]) as (nc, errors):
            await bus.declare(nc, role="matcher")
            js = nc.jetstream(timeout=WAIT)

            async def stored(subject: str) -> bool:
                await js.publish(subject, b'{"type":"advisory.published"}', timeout=WAIT)
                return True

            async def core(subject: str) -> bool:
                await nc.publish(subject, b'{"type":"advisory.published"}')
                await nc.flush()
                await asyncio.sleep(0.2)
                info = await advisory.jetstream().stream_info("ADVISORIES")
                return bool(info.state.messages)

            async def widen() -> bool:  # let the stream take a subject the matcher may publish
                config = StreamConfig(name="ADVISORIES", subjects=["advisories.>", "matcher.x"])
                await js.update_stream(config)
                return True

            async def shadow() -> bool:  # a stream of its own that services would never read
                await js.add_stream(name="SHADOW", subjects=["shadow.>"])
                return True

            await found.attempt("JetStream publish advisories.published",
                                lambda: stored(Subjects.ADVISORIES_PUBLISHED))  # fmt: skip
            await found.attempt("core publish advisories.published",
                                lambda: core(Subjects.ADVISORIES_PUBLISHED))  # fmt: skip
            await found.attempt("JetStream publish advisories.withdrawn",
                                lambda: stored(Subjects.ADVISORIES_WITHDRAWN))  # fmt: skip
            await found.attempt("JetStream publish disasters.declared",
                                lambda: stored(Subjects.DISASTERS_DECLARED))  # fmt: skip
            await found.attempt("reconfigure the ADVISORIES stream", widen)
            await found.attempt("create a stream of its own", shadow)
            found.refusals = errors
        info = await advisory.jetstream().stream_info("ADVISORIES")
        if info.state.messages or info.config.subjects != ["advisories.>"]:
            found.succeeded.append(f"ADVISORIES holds {info.state.messages} messages afterwards")
    finally:
        await advisory.close()
    return found


async def ingest_reads_deliveries(url: str, passwords: dict[str, str]) -> Attempts:
    """Ingest's credentials try to read the delivery requests that only the mailer may read.

    The matcher publishes requests and the mailer pulls them meanwhile, so that a listener
    on the mailer's inbox would hear them.
    """
    found = Attempts()
    matcher = await as_service(url, "matcher", passwords["matcher"])
    mailer = await as_service(url, "mailer", passwords["mailer"])
    try:
        async with connected(url, "ingest", passwords["ingest"]) as (nc, errors):
            await bus.declare(nc, role="ingest")
            js, heard = nc.jetstream(timeout=WAIT), []

            async def hear(msg: Msg) -> None:
                heard.append(msg.data)

            async def listen(subject: str) -> bool:
                sub = await nc.subscribe(subject, cb=hear)
                await nc.flush()
                await _deliver(matcher, mailer)
                # What the server sent may still wait in the subscription's queue (a loaded
                # machine): give it a moment before deciding nothing was heard.
                await nc.flush()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(1.0):
                        while not any(b"only-the-mailer" in data for data in heard):
                            await asyncio.sleep(0.02)
                await sub.unsubscribe()
                return any(b"only-the-mailer" in data for data in heard)

            async def pull_as_mailer() -> bool:
                await matcher.jetstream().publish(Subjects.DELIVERIES_REQUESTED, SECRET)
                sub = await js.pull_subscribe_bind("mailer-deliveries", "DELIVERIES")
                msgs = await sub.fetch(1, timeout=WAIT)
                return any(b"only-the-mailer" in m.data for m in msgs)

            async def own_consumer() -> bool:
                sub = await js.pull_subscribe(Subjects.DELIVERIES_REQUESTED, stream="DELIVERIES")
                msgs = await sub.fetch(1, timeout=WAIT)
                return any(b"only-the-mailer" in m.data for m in msgs)

            async def get(direct: bool) -> bool:
                raw = await js.get_msg("DELIVERIES", 1, direct=direct)
                return b"only-the-mailer" in (raw.data or b"")

            await _deliver(matcher, mailer)
            for subject in ("deliveries.>", ">", "_INBOX.>", "_INBOX.mailer.>", "$JS.>"):
                await found.attempt(f"subscribe {subject}", functools.partial(listen, subject))
            await found.attempt("pull from the mailer's consumer", pull_as_mailer)
            await found.attempt("a consumer of its own on DELIVERIES", own_consumer)
            await found.attempt("get a stored message", lambda: get(False))
            await found.attempt("direct get a stored message", lambda: get(True))
            found.refusals = errors
    finally:
        await matcher.close()
        await mailer.close()
    return found


async def _deliver(matcher: Client, mailer: Client) -> None:
    """The matcher requests a delivery and the mailer pulls and acks it, as they do."""
    await matcher.jetstream().publish(Subjects.DELIVERIES_REQUESTED, SECRET)
    sub = await mailer.jetstream().pull_subscribe_bind("mailer-deliveries", "DELIVERIES")
    try:
        msgs = await sub.fetch(1, timeout=5)
        assert [m.data for m in msgs] == [SECRET], "the mailer itself reads them"
        for msg in msgs:
            await msg.ack()
    finally:
        await sub.unsubscribe()
