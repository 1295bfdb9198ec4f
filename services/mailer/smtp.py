"""A pool of reused SMTP connections (aiosmtplib); each answer is read by `replies.verdict`.

How a connection is opened (TLS, the certificate, AUTH) is `relay.py`'s.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable

import aiosmtplib
import msgspec

from services.mailer import wire
from services.mailer.relay import Relay, Unfit, connect, tls_context
from services.mailer.replies import NO_REPLY, Outcome, Result, verdict

log = logging.getLogger(__name__)

NOT_ASCII = "553 5.6.7 the address is not ASCII: internationalized addresses are not supported"


class Envelope(msgspec.Struct, frozen=True):
    """One mail as SMTP carries it."""

    sender: str
    recipient: str
    data: bytes
    problem: str = ""  # why `data` is empty: the mail could not be composed


class _Unrecorded(Exception):
    """The ledger gave up recording the connection's previous mail: send no more."""


async def _transact(
    smtp: aiosmtplib.SMTP, envelope: Envelope, slot: _Slot, ready: Awaitable[bool] | None
) -> None:
    """MAIL, RCPT and DATA for one mail, the envelope reset after a refusal.

    What `sendmail` does, without parsing each address a second time and passing the whole
    message through a regex once more to size it: composed here, it has CRLF line ends
    already (`wire` skips aiosmtplib's regexes for such a message, and its parse of a plain
    address). Together they cost about as much as rendering the mail. DATA waits for `ready`
    (the ledger recording the connection's previous mail), so that a crash leaves at most one
    mail a connection accepted by the relay and unknown to the ledger.
    """
    size = [f"SIZE={len(envelope.data)}"] if smtp.supports_extension("size") else []
    try:
        slot.stage = "mail"
        await wire.mail(smtp, envelope.sender, size)
        slot.stage = "rcpt"
        await wire.rcpt(smtp, envelope.recipient)
        if ready is not None and not await ready:
            raise _Unrecorded
        slot.stage = "data"
        await wire.data(smtp, envelope.data)
    except (aiosmtplib.SMTPResponseException, _Unrecorded):
        # A refused recipient or message leaves the envelope open on the server.
        with contextlib.suppress(aiosmtplib.SMTPException, OSError):
            await smtp.rset()
        raise


class _Slot:
    """One connection of the pool, opened when first needed and kept open."""

    def __init__(self) -> None:
        self.smtp: aiosmtplib.SMTP | None = None
        self.stage = ""  # how far the current mail got: its answer's place

    def mark(self, stage: str) -> None:
        """The connection's set-up has reached `stage`."""
        self.stage = stage

    async def close(self) -> None:
        if self.smtp is not None:
            with contextlib.suppress(Exception):
                await self.smtp.quit()
            self.smtp = None


class SmtpPool:
    """Sends over at most `size` connections, each reused from mail to mail."""

    def __init__(self, relay: Relay, size: int = 4) -> None:
        self.relay = relay
        self._tls = tls_context(relay)  # read once: the CA file, the system's certificates
        self._all = [_Slot() for _ in range(max(1, size))]
        self._slots: asyncio.Queue[_Slot] = asyncio.Queue()
        for slot in self._all:
            self._slots.put_nowait(slot)

    async def _open(self, slot: _Slot) -> aiosmtplib.SMTP:
        if slot.smtp is None or not slot.smtp.is_connected:
            slot.smtp = await connect(self.relay, self._tls, slot.mark)
        return slot.smtp

    async def send(self, envelope: Envelope, ready: Awaitable[bool] | None = None) -> Result:
        """Send one mail over a free connection; never raises for a refusal or lost link.

        DATA waits for `ready`, when given (see `_transact`).
        """
        if not envelope.recipient.isascii():
            # Such an address needs SMTPUTF8 (RFC 6531) end to end, which this mailer does not
            # speak; a relay would refuse it the same way, and trying again changes nothing.
            return Result(Outcome.FAILED, NOT_ASCII)
        if not envelope.data:
            why = envelope.problem or "the mail could not be rendered"
            return Result(Outcome.RETRY, f"nothing to send: {why}"[:500])
        slot = await self._slots.get()
        slot.stage = "mail"
        try:
            smtp = await self._open(slot)
            await _transact(smtp, envelope, slot, ready)
        except aiosmtplib.SMTPResponseException as exc:
            # The stage decides: a refused envelope sender, greeting or HELO is never the
            # recipient's fault, whatever the code.
            if exc.code == 421:  # the server is closing this connection
                await slot.close()
            return verdict(slot.stage, exc.code, exc.message)
        except Unfit as exc:  # the relay is not as the settings ask: its fault, not the mail's
            return Result(Outcome.RETRY, str(exc)[:500], slot.stage, exc.code)
        except _Unrecorded:
            return Result(Outcome.RETRY, "not sent: the ledger could not record the mail before")
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            await slot.close()
            return Result(Outcome.RETRY, repr(exc)[:500], slot.stage, NO_REPLY)
        except Exception as exc:
            # Never let one mail fail its claim: what went out must still be recorded.
            log.exception("unexpected failure sending a mail")
            await slot.close()
            return Result(Outcome.RETRY, repr(exc)[:500])
        except asyncio.CancelledError:
            # Cut off mid-conversation: the connection's state is unknown, drop it.
            if slot.smtp is not None:
                slot.smtp.close()
                slot.smtp = None
            raise
        finally:
            self._slots.put_nowait(slot)
        return Result(Outcome.SENT, stage="data")

    async def send_all(
        self,
        envelopes: Iterable[Envelope | Result],
        count: int,
        answered: Callable[[int, Result], Awaitable[bool] | None],
    ) -> None:
        """Send `count` mails over the pool's connections; `answered(i, result)` hears of each.

        `envelopes` may be a generator: each connection takes the next mail when it is free,
        so rendering one mail overlaps the relay's answer to another; a Result in its place
        is an answer given without sending (a mail held back). Each answer is passed on as
        soon as the relay has given it; what `answered` returns (the answer recorded) is
        awaited before the same connection's next DATA.
        """
        todo = iter(enumerate(envelopes))

        async def worker() -> None:  # one per connection, not a task per mail
            recorded: Awaitable[bool] | None = None
            for i, item in todo:
                result = item if isinstance(item, Result) else await self.send(item, recorded)
                recorded = answered(i, result)

        await asyncio.gather(*(worker() for _ in range(min(len(self._all), count))))

    async def close(self) -> None:
        """Quit every open connection."""
        for slot in self._all:
            await slot.close()
