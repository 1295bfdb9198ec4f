"""A pool of reused SMTP connections (aiosmtplib), and what each reply means for the ledger."""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
from collections.abc import Callable, Iterable

import aiosmtplib
import msgspec

log = logging.getLogger(__name__)

NOT_ASCII = "553 5.6.7 the address is not ASCII: internationalized addresses are not supported"


class Outcome(enum.Enum):
    """What became of one mail at the relay."""

    SENT = "sent"
    RETRY = "retry"  # 4xx, a lost connection, a timeout: try again later
    FAILED = "failed"  # 5xx for the recipient or the message: suppress the address


class Result(msgspec.Struct, frozen=True):
    """The relay's answer to one mail."""

    outcome: Outcome
    error: str = ""


class Envelope(msgspec.Struct, frozen=True):
    """One mail as SMTP carries it."""

    sender: str
    recipient: str
    data: bytes
    problem: str = ""  # why `data` is empty: the mail could not be composed


def _verdict(code: int, text: str) -> Result:
    outcome = Outcome.FAILED if 500 <= code < 600 else Outcome.RETRY
    return Result(outcome, f"{code} {text}"[:500])


async def _transact(smtp: aiosmtplib.SMTP, envelope: Envelope) -> None:
    """MAIL, RCPT and DATA for one mail, the envelope reset after a refusal.

    What `sendmail` does, without parsing each address a second time and passing the whole
    message through a regex once more to size it: composed here, it has CRLF line ends
    already. Together they cost about as much as rendering the mail.
    """
    size = [f"SIZE={len(envelope.data)}"] if smtp.supports_extension("size") else []
    try:
        await smtp.mail(envelope.sender, options=size)
        await smtp.rcpt(envelope.recipient)
        await smtp.data(envelope.data)
    except aiosmtplib.SMTPResponseException:
        # A refused recipient or message leaves the envelope open on the server.
        with contextlib.suppress(aiosmtplib.SMTPException, OSError):
            await smtp.rset()
        raise


class _Slot:
    """One connection of the pool, opened when first needed and kept open."""

    def __init__(self) -> None:
        self.smtp: aiosmtplib.SMTP | None = None

    async def close(self) -> None:
        if self.smtp is not None:
            with contextlib.suppress(Exception):
                await self.smtp.quit()
            self.smtp = None


class SmtpPool:
    """Sends over at most `size` connections, each reused from mail to mail."""

    def __init__(self, host: str, port: int, size: int = 4, timeout: float = 30.0) -> None:
        self.host, self.port, self.timeout = host, port, timeout
        self._all = [_Slot() for _ in range(max(1, size))]
        self._slots: asyncio.Queue[_Slot] = asyncio.Queue()
        for slot in self._all:
            self._slots.put_nowait(slot)

    async def _open(self, slot: _Slot) -> aiosmtplib.SMTP:
        if slot.smtp is None or not slot.smtp.is_connected:
            smtp = aiosmtplib.SMTP(
                hostname=self.host, port=self.port, timeout=self.timeout, start_tls=False
            )
            await smtp.connect()
            try:  # now, so that even the first mail over it knows the server's extensions
                await smtp.ehlo()
            except aiosmtplib.SMTPHeloError:
                await smtp.helo()  # a server from before ESMTP
            slot.smtp = smtp
        return slot.smtp

    async def send(self, envelope: Envelope) -> Result:
        """Send one mail over a free connection; never raises for a refusal or lost link."""
        if not envelope.recipient.isascii():
            # Such an address needs SMTPUTF8 (RFC 6531) end to end, which this mailer does not
            # speak; a relay would refuse it the same way, and trying again changes nothing.
            return Result(Outcome.FAILED, NOT_ASCII)
        if not envelope.data:
            why = envelope.problem or "the mail could not be rendered"
            return Result(Outcome.RETRY, f"nothing to send: {why}"[:500])
        slot = await self._slots.get()
        try:
            smtp = await self._open(slot)
            await _transact(smtp, envelope)
        except aiosmtplib.SMTPSenderRefused as exc:
            # Our own envelope sender was refused: not the recipient's fault.
            return Result(Outcome.RETRY, f"{exc.code} {exc.message}"[:500])
        except aiosmtplib.SMTPResponseException as exc:
            if exc.code == 421:  # the server is closing this connection
                await slot.close()
            return _verdict(exc.code, exc.message)
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            await slot.close()
            return Result(Outcome.RETRY, repr(exc)[:500])
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
        return Result(Outcome.SENT)

    async def send_all(
        self, envelopes: Iterable[Envelope], count: int, answered: Callable[[int, Result], None]
    ) -> None:
        """Send `count` mails over the pool's connections; `answered(i, result)` hears of each.

        `envelopes` may be a generator: each connection takes the next mail when it is free,
        so rendering one mail overlaps the relay's answer to another. Each answer is passed
        on as soon as the relay has given it, so the caller can record it meanwhile.
        """
        todo = iter(enumerate(envelopes))

        async def worker() -> None:  # one per connection, not a task per mail
            for i, envelope in todo:
                answered(i, await self.send(envelope))

        await asyncio.gather(*(worker() for _ in range(min(len(self._all), count))))

    async def close(self) -> None:
        """Quit every open connection."""
        for slot in self._all:
            await slot.close()
