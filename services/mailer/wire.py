"""SMTP commands as the mailer writes them over aiosmtplib's connection, for less CPU a mail.

aiosmtplib's DATA passes every message through two regular expressions (line ends, then
leading dots): 4 % of the mailer's CPU in the Noto replay. A composed mail has CRLF line
ends already; for such a message the same bytes come out of a count and a replace. Its MAIL
and RCPT parse each address with `email.utils.parseaddr` (about 23 µs an address); a plain
address (`PLAIN`) comes out of it unchanged, so it is written as it is.
"""

from __future__ import annotations

import re

import aiosmtplib
from aiosmtplib.email import quote_address
from aiosmtplib.protocol import PERIOD_REGEX, normalize_message_line_endings

START_INPUT = 354
COMPLETED = 250
WILL_FORWARD = 251

# An address of atoms and dots around one @, nothing parseaddr would take apart or quote.
PLAIN = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Za-z0-9.-]+")


def quoted(address: str) -> bytes:
    """The address as aiosmtplib's MAIL and RCPT write it (ValueError where it refuses it)."""
    if PLAIN.fullmatch(address):
        return f"<{address}>".encode("ascii")
    return quote_address(address).encode("ascii")


async def mail(smtp: aiosmtplib.SMTP, sender: str, options: list[str]) -> None:
    """MAIL FROM, answered as `SMTP.mail` answers (SMTPSenderRefused on a refusal)."""
    args = [b"MAIL", b"FROM:" + quoted(sender), *(o.encode("ascii") for o in options)]
    response = await smtp.execute_command(*args)
    if response.code != COMPLETED:
        raise aiosmtplib.SMTPSenderRefused(response.code, response.message, sender)


async def rcpt(smtp: aiosmtplib.SMTP, recipient: str) -> None:
    """RCPT TO, answered as `SMTP.rcpt` answers (SMTPRecipientRefused on a refusal)."""
    response = await smtp.execute_command(b"RCPT", b"TO:" + quoted(recipient))
    if response.code not in (COMPLETED, WILL_FORWARD):
        raise aiosmtplib.SMTPRecipientRefused(response.code, response.message, recipient)


def data_bytes(message: bytes) -> bytes:
    """The message as DATA carries it, ended by the lone dot: exactly aiosmtplib's bytes."""
    crlf = message.count(b"\r\n")
    if message.count(b"\r") == crlf and message.count(b"\n") == crlf:
        # Every CR and LF already pairs up: normalizing would change nothing but the end.
        if not message.endswith(b"\r\n"):
            message += b"\r\n"
        # PERIOD_REGEX (`(?m)^\.`) matches a dot at the start and after each LF.
        stuffed = message.replace(b"\n.", b"\n..")
        if stuffed.startswith(b"."):
            stuffed = b"." + stuffed
    else:
        stuffed = PERIOD_REGEX.sub(b"..", normalize_message_line_endings(message))
    return stuffed + b".\r\n"


async def data(smtp: aiosmtplib.SMTP, message: bytes) -> None:
    """DATA and the message, answered as `SMTP.data` answers (SMTPDataError on a refusal).

    The connection is greeted and the pool's alone, so no other command can come between.
    """
    start = await smtp.execute_command(b"DATA")
    if start.code != START_INPUT:
        raise aiosmtplib.SMTPDataError(start.code, start.message)
    protocol = smtp.protocol
    if protocol is None:  # the server closed it on its answer (421)
        raise aiosmtplib.SMTPServerDisconnected("Connection lost")
    try:
        # No await between the write and the read: the answer cannot arrive unexpected.
        protocol.write(data_bytes(message))
        response = await protocol.read_response(timeout=smtp.timeout)
    except (aiosmtplib.SMTPServerDisconnected, aiosmtplib.SMTPTimeoutError):
        smtp.close()
        raise
    if response.code != COMPLETED:
        raise aiosmtplib.SMTPDataError(response.code, response.message)
