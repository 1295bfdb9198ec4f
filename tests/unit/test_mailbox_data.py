"""The local mailbox reads DATA a stretch at a time, however the bytes arrive: the mail ends at
the first line that is a lone dot, a mail over the size limit is dropped whole, and what
follows the mail stays unread for the next command."""

from __future__ import annotations

import asyncio

from hypothesis import given
from hypothesis import strategies as st

from deploy.mailbox_smtp import QuickSMTP

LIMIT = 40
LINE = st.binary(max_size=7).map(lambda b: bytes(b".a\r\n"[x % 4] for x in b))
LINES = st.lists(LINE.filter(lambda line: b"\r\n" not in line and line != b"."), max_size=12)


async def _read(wire: bytes, cuts: list[int], read_limit: int) -> tuple[bytes | None, bytes]:
    server = QuickSMTP(None, loop=asyncio.get_running_loop(), data_size_limit=LIMIT)
    reader = asyncio.StreamReader(limit=read_limit)
    server._reader = reader
    reading = asyncio.ensure_future(server._read_data())
    start = 0
    for cut in sorted({*cuts, len(wire)}):
        reader.feed_data(wire[start:cut])  # the bytes as they came, a piece at a time
        start = cut
        await asyncio.sleep(0)
    reader.feed_eof()
    got = await reading
    return got, await reader.read()


@given(
    lines=LINES,
    cuts=st.lists(st.integers(0, 200), max_size=8),
    read_limit=st.integers(4, 64),
)
def test_a_mail_is_read_to_its_lone_dot_whatever_the_pieces(
    lines: list[bytes], cuts: list[int], read_limit: int
) -> None:
    raw = b"".join(line + b"\r\n" for line in lines)  # as aiosmtpd reads it: line by line
    wire = raw + b".\r\nNOOP\r\n"
    loop = asyncio.new_event_loop()
    try:
        got, left = loop.run_until_complete(_read(wire, cuts, read_limit))
    finally:
        loop.close()
    assert got == (None if len(raw) > LIMIT else raw)
    assert left == b"NOOP\r\n"
