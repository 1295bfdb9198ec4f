"""The local mailbox's SMTP server over real sockets: it offers PIPELINING and answers a
pipelined group in order, and it answers every DATA exactly as aiosmtpd's own server does
(the same replies, the same unstuffed bytes handed on), edge cases and refusals included."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session

from deploy.mailbox import serving
from deploy.mailbox_smtp import READ_LIMIT, QuickSMTP
from deploy.servers import free_port

LIMIT = 100_000  # both servers' data_size_limit here


class Kept:
    """Keeps each mail's envelope and bytes as the server handed them on."""

    def __init__(self) -> None:
        self.mails: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        self.mails.append((envelope.mail_from or "", list(envelope.rcpt_tos), content))
        return "250 OK"


async def talk(port: int, script: bytes) -> list[bytes]:
    """Send the whole script at once (it ends with QUIT); every reply line, in order."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(script)
    replies = (await asyncio.wait_for(reader.read(), 30)).split(b"\r\n")
    writer.close()
    return replies


@asynccontextmanager
async def server(kind: type[SMTP], handler: Kept) -> AsyncIterator[int]:
    port = free_port()
    made = await asyncio.get_running_loop().create_server(
        lambda: kind(handler, hostname="localhost", data_size_limit=LIMIT), "127.0.0.1", port
    )
    try:
        yield port
    finally:
        made.close()


def mail(*bodies: bytes) -> bytes:
    """A session sending each body (as DATA carries it, the lone dot included), then QUIT."""
    groups = (
        b"MAIL FROM:<shop@anshin.example>\r\nRCPT TO:<hanako@example.jp>\r\nDATA\r\n" + body
        for body in bodies
    )
    return b"EHLO test\r\n" + b"".join(groups) + b"QUIT\r\n"


def lines_of(size: int, width: int = 76) -> bytes:
    """`size` bytes of base64-like lines, `width` characters each before CRLF."""
    line = b"Q" * width + b"\r\n"
    whole = line * (size // len(line) + 1)
    return whole[: size - 2] + b"\r\n"


AFTER = b"Next.\r\n.\r\n"  # a second mail on the same connection: the stream stays in step
CASES = {
    "dot-stuffed lines": b"Subject: dots\r\n\r\n..hidden\r\n...\r\n..\r\nend\r\n.\r\n",
    "first line stuffed": b"..first\r\nsecond\r\n.\r\n",
    "empty mail": b".\r\n",
    "lines ending in a dot": b"end.\r\nand.\r\n..\r\n.x.\r\n.\r\n",
    "a bare LF before a dot": b"a\n.\r\nb\r\n.\r\n",
    "a bare CR before a dot": b"a\r.\r\nb\r\n.\r\n",
    "a dot and a space": b". \r\nz\r\n.\r\n",
    "no CRLF before the dot": b"text.\r\n.\r\n",
    "a line of 999 bytes": b"x" * 999 + b"\r\n.\r\n",
    "a line of 1000 bytes": b"x" * 1000 + b"\r\n.\r\n",
    "a line longer than a read": b"x" * (READ_LIMIT + 20_000) + b"\r\n.\r\n",
    "at the size limit": lines_of(LIMIT) + b".\r\n",
    "one byte over": lines_of(LIMIT + 1) + b".\r\n",
    "far over": lines_of(5 * LIMIT) + b".\r\n",
    "stuffed at the limit": b"." + lines_of(LIMIT - 1) + b".\r\n",
    "no dot line for long": lines_of(LIMIT - 10, width=998) + b".\r\n",
    "8-bit text": "一酸化炭素に注意。\r\n.注意\r\n".encode() + b".\r\n",
}


@pytest.mark.parametrize("body", CASES.values(), ids=CASES.keys())
async def test_data_is_answered_and_handed_on_as_aiosmtpd_does(body: bytes) -> None:
    theirs, ours = Kept(), Kept()
    async with server(SMTP, theirs) as their_port, server(QuickSMTP, ours) as our_port:
        expected = await talk(their_port, mail(body, AFTER))
        got = await talk(our_port, mail(body, AFTER))
    assert got == expected
    assert ours.mails == theirs.mails
    assert ours.mails[-1][2] == b"Next.\r\n"


SESSIONS = {
    "command lines too long": b"EHLO test\r\nNOOP "
    + b"x" * 2_000
    + b"\r\nNOOP "
    + b"x" * (3 * READ_LIMIT)
    + b"\r\nNOOP\r\nQUIT\r\n",
    "DATA refused before MAIL and RCPT": b"EHLO test\r\nDATA\r\nMAIL FROM:<a@b.example>\r\n"
    + b"DATA\r\nRCPT TO:<c@d.example>\r\nDATA x\r\nDATA\r\nok\r\n.\r\nQUIT\r\n",
    "DATA before EHLO": b"MAIL FROM:<a@b.example>\r\nDATA\r\nQUIT\r\n",
    "QUIT with an argument": b"EHLO test\r\nQUIT now\r\nNOOP\r\nQUIT\r\n",
}


@pytest.mark.parametrize("script", SESSIONS.values(), ids=SESSIONS.keys())
async def test_a_session_is_answered_as_aiosmtpd_answers_it(script: bytes) -> None:
    theirs, ours = Kept(), Kept()
    async with server(SMTP, theirs) as their_port, server(QuickSMTP, ours) as our_port:
        expected = await talk(their_port, script)
        got = await talk(our_port, script)
    assert got == expected
    assert ours.mails == theirs.mails


async def test_a_mail_over_the_limit_is_refused_with_552_and_nothing_kept() -> None:
    kept = Kept()
    async with server(QuickSMTP, kept) as port:
        replies = await talk(port, mail(lines_of(LIMIT + 1) + b".\r\n"))
    assert b"552 Error: Too much mail data" in replies and kept.mails == []


async def test_the_mailbox_offers_pipelining_and_answers_a_group_in_order(tmp_path: Path) -> None:
    root, smtp_port = tmp_path / "mail", free_port()
    async with serving(root, smtp_port, free_port()):
        replies = await talk(
            smtp_port,
            b"EHLO shop\r\n"
            # A group whose RCPT is refused: its DATA is refused after it, no mail body sent.
            b"MAIL FROM:<bounce@anshin.example>\r\nRCPT TO:<a@example.jp> FOO=1\r\nDATA\r\n"
            b"RSET\r\n"
            b"MAIL FROM:<bounce@anshin.example>\r\nRCPT TO:<a@example.jp>\r\n"
            b"RCPT TO:<b@example.jp>\r\nDATA\r\nHi\r\n.\r\nQUIT\r\n",
        )
    assert b"250-PIPELINING" in replies
    codes = [line[:3] for line in replies if line and not line.startswith(b"250-")]
    assert codes == [
        *(b"220", b"250", b"250", b"555", b"503", b"250"),  # EHLO; the refused group; RSET
        *(b"250", b"250", b"250", b"354", b"250", b"221"),
    ]
    [kept] = list((root / "new").iterdir())
    assert b"X-RcptTo: a@example.jp, b@example.jp\r\nHi\r\n" in kept.read_bytes()


async def test_a_pipelined_group_then_its_mail_is_kept_for_every_recipient(
    tmp_path: Path,
) -> None:
    root, smtp_port = tmp_path / "mail", free_port()
    async with serving(root, smtp_port, free_port()):
        reader, writer = await asyncio.open_connection("127.0.0.1", smtp_port)
        writer.write(
            b"EHLO shop\r\nMAIL FROM:<bounce@anshin.example>\r\nRCPT TO:<a@example.jp>\r\n"
            b"RCPT TO:<b@example.jp>\r\nDATA\r\n"
        )
        seen = b""
        while not seen.endswith(b"354 End data with <CR><LF>.<CR><LF>\r\n"):
            seen += (piece := await asyncio.wait_for(reader.read(4096), 10))
            assert piece, seen  # closed before the 354
        writer.write(b"Subject: x\r\n\r\n..dot\r\n.\r\nNOOP\r\nQUIT\r\n")
        rest = await asyncio.wait_for(reader.read(), 10)
        writer.close()
    assert rest == b"250 OK\r\n250 OK\r\n221 Bye\r\n"
    [kept] = list((root / "new").iterdir())
    assert kept.read_bytes().endswith(
        b"X-RcptTo: a@example.jp, b@example.jp\r\nSubject: x\r\n\r\n.dot\r\n"
    )


async def test_quit_is_answered_with_commands_after_it(tmp_path: Path) -> None:
    async with serving(tmp_path / "mail", (port := free_port()), free_port()):
        replies = await talk(port, b"NOOP\r\nQUIT\r\nNOOP\r\n")
    assert replies[1:] == [b"250 OK", b"221 Bye", b""]
