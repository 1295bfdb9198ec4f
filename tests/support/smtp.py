"""A real SMTP server for tests: aiosmtpd on a free port, keeping every message."""

from __future__ import annotations

import asyncio
import email
import email.policy
import time
from collections.abc import Callable
from email.message import EmailMessage

import msgspec
from aiosmtpd.smtp import SMTP, Envelope, Session

from deploy.servers import free_port

# Decides the reply to one recipient: None accepts, a string such as "451 try later" refuses.
Verdict = Callable[[str], str | None]
# Decides the reply to a whole message at DATA: None accepts, "451 …" defers, "554 …" refuses.
DataVerdict = Callable[[EmailMessage], str | None]


class Arrival(msgspec.Struct, frozen=True):
    """When an accepted message arrived, and over which client connection."""

    at: float
    peer: str
    message: EmailMessage
    raw: bytes


class LoopbackSmtp:
    """An aiosmtpd server on a free loopback port; subclasses add the DATA (and RCPT) hooks."""

    def __init__(self) -> None:
        self.port = free_port()
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        """Listen on loopback."""
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: SMTP(self, hostname="sink.test"), "127.0.0.1", self.port
        )

    async def stop(self) -> None:
        """Stop listening."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()


class SmtpSink(LoopbackSmtp):
    """Accepts mail into a list; `verdict` and `data_verdict` can refuse with 4xx or 5xx."""

    def __init__(self, verdict: Verdict | None = None) -> None:
        super().__init__()
        self.messages: list[EmailMessage] = []
        self.arrivals: list[Arrival] = []
        self.rcpt_attempts: list[str] = []
        self.data_attempts: list[str] = []  # the Message-ID of every DATA, accepted or not
        self.verdict: Verdict = verdict or (lambda _: None)
        self.data_verdict: DataVerdict = lambda _: None
        self.data_delay = 0.0  # seconds a DATA waits before its answer: a slow relay
        self.envelopes: list[tuple[str, list[str]]] = []  # (MAIL FROM, RCPT TOs) of each accepted
        self.arrived = asyncio.Event()

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        """Accept or refuse one recipient."""
        self.rcpt_attempts.append(address)
        refusal = self.verdict(address)
        if refusal is not None:
            return refusal
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        """Keep the message, unless `data_verdict` refuses it."""
        raw = envelope.original_content or b""
        message = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.data_attempts.append(str(message["Message-ID"]))
        if self.data_delay:
            await asyncio.sleep(self.data_delay)
        refusal = self.data_verdict(message)
        if refusal is not None:
            return refusal
        self.messages.append(message)
        self.envelopes.append((envelope.mail_from or "", list(envelope.rcpt_tos)))
        self.arrivals.append(Arrival(time.monotonic(), str(session.peer), message, raw))
        self.arrived.set()
        return "250 Message accepted"

    def message_ids(self) -> list[str]:
        """The Message-ID of every accepted message, in arrival order."""
        return [str(m["Message-ID"]) for m in self.messages]

    async def wait_for(self, count: int, timeout: float = 20.0) -> list[EmailMessage]:
        """Wait until at least `count` messages arrived; return them all."""
        async with asyncio.timeout(timeout):
            while len(self.messages) < count:
                self.arrived.clear()
                await self.arrived.wait()
        return self.messages
