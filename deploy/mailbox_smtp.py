"""The local mailbox's SMTP server: aiosmtpd's, made cheaper a mail for a 16,000-mail replay.

Three costs of aiosmtpd 1.4 are taken out, its answers kept:
- DATA is read a stretch at a time (up to each ".\r\n") instead of a line at a time (a base64
  body comes in 76-byte lines, each an await and a list entry): the same size limit and
  552, the same 500 for a line over 1,001 bytes, the same unstuffed bytes for the handler.
- Replies to pipelined commands (RFC 2920: MAIL, RCPT and DATA in one write) go out in one
  write, once no command is left to read, instead of one write each.
- A plain `<local@domain>` address is taken by one regular expression; anything else goes
  to aiosmtpd's RFC 5322 parser (which also builds a class on every call).

No TLS: a deferred reply must never cross a STARTTLS switch, and the mailbox offers none.
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any

from aiosmtpd.smtp import MISSING, SMTP, syntax

log = logging.getLogger("deploy.mailbox")

# How much the stream reader holds before it stops reading the socket, and the longest stretch
# of DATA read at once (aiosmtpd's own is its line limit, 1,001: a mail of a few KiB stopped
# and started the socket several times).
READ_LIMIT = 64 * 1024
_END = b"\r\n.\r\n"
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_PLAIN = re.compile(rf"<({_ATOM}(?:\.{_ATOM})*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*)>")


class QuickSMTP(SMTP):  # type: ignore[misc]
    """aiosmtpd's SMTP server with DATA read in stretches and pipelined replies written once."""

    def __init__(self, handler: Any, **kwargs: Any) -> None:
        if kwargs.get("tls_context") or kwargs.get("decode_data"):
            raise ValueError("QuickSMTP offers no STARTTLS and hands the handler bytes alone")
        super().__init__(handler, **kwargs)
        self._unsent: list[bytes] = []
        self._quitting = False

    def _cb_client_connected(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        # StreamReader has no public setter for its limit; aiosmtpd sets it to a line's length.
        reader._limit = READ_LIMIT  # type: ignore[attr-defined]
        super()._cb_client_connected(reader, writer)

    async def push(self, status: str | bytes) -> None:
        """Send a reply, or keep it to send with the next if another command is waiting."""
        if isinstance(status, str):
            status = status.encode("utf-8" if self.enable_SMTPUTF8 else "ascii")
        self._unsent.append(status + b"\r\n")
        # RFC 2920: replies to a pipelined group may be held until no command is left to read.
        # aiosmtpd itself reaches into the reader's buffer; StreamReader shows no other way.
        if self._quitting or b"\n" not in self._reader._buffer:
            self._send_unsent()
            await self._writer.drain()

    def _send_unsent(self) -> None:
        replies, self._unsent = self._unsent, []
        if replies and self.transport is not None and not self.transport.is_closing():
            self._writer.write(b"".join(replies))

    @syntax("QUIT")  # type: ignore[untyped-decorator]
    async def smtp_QUIT(self, arg: str) -> None:
        """aiosmtpd's QUIT, its 221 sent at once: aiosmtpd closes the connection right after."""
        self._quitting = not arg
        await super().smtp_QUIT(arg)

    def _getaddr(self, arg: str) -> tuple[str | None, str | None]:
        plain = _PLAIN.match(arg)
        rest = arg[plain.end() :].lstrip(" \t") if plain else ""  # as the parser skips blanks
        if plain is None or rest.startswith("(") or self.local_part_limit:
            result: tuple[str | None, str | None] = super()._getaddr(arg)
            return result
        return plain.group(1), rest

    @syntax("DATA")  # type: ignore[untyped-decorator]
    async def smtp_DATA(self, arg: str) -> None:
        """aiosmtpd's DATA: the same checks and answers, the mail read in stretches."""
        if await self.check_helo_needed() or await self.check_auth_needed("DATA"):
            return
        assert self.envelope is not None
        if not self.envelope.rcpt_tos:
            await self.push("503 Error: need RCPT command")
            return
        if arg:
            await self.push("501 Syntax: DATA")
            return
        await self.push("354 End data with <CR><LF>.<CR><LF>")
        self._send_unsent()  # a client that sent the mail already does not wait for it
        try:
            raw = await self._read_data()
        except asyncio.CancelledError:
            log.info("Connection lost during DATA")
            self._writer.close()
            raise
        if raw is None:
            await self.push("552 Error: Too much mail data")
        elif any(len(line) > self.line_length_limit - 2 for line in raw.split(b"\r\n")):
            await self.push("500 Line too long (see RFC5321 4.5.3.1.6)")
        else:
            # RFC 5321 4.5.2: a line that begins with a dot came with one more.
            content = raw[1:] if raw.startswith(b".") else raw
            content = content.replace(b"\r\n.", b"\r\n")
            self.envelope.content = self.envelope.original_content = content
            status = await self._call_handler_hook("DATA")
            self._set_post_data_state()
            await self.push("250 OK" if status is MISSING else status)
            return
        self._set_post_data_state()

    async def _read_data(self) -> bytes | None:
        """The mail's bytes as sent (stuffed, the last line's CRLF kept, the lone dot not);
        None for one over the size limit (read to its end all the same, and dropped)."""
        limit, taken, pieces = self.data_size_limit, 0, list[bytes]()
        tail = b"\r\n"  # the DATA command's own line end: the mail's first line starts a line
        while True:
            try:
                piece = await self._reader.readuntil(b".\r\n")
            except asyncio.LimitOverrunError as error:  # a stretch with no ".\r\n" in it
                piece, ended = await self._reader.read(error.consumed), False
            else:
                ended = (tail + piece[-5:]).endswith(_END)
            taken += len(piece)
            tail = piece[-4:] if len(piece) >= 4 else (tail + piece)[-4:]
            size = taken - 3 if ended else taken
            if limit and size > limit:
                pieces.clear()  # keep no more of a mail that will be refused
            else:
                pieces.append(piece)
            if ended:
                break
        if limit and taken - 3 > limit:
            return None
        return b"".join(pieces)[:-3]
