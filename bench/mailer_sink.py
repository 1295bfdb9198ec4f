"""An SMTP sink for the mailer benchmark, in its own process: counts what it accepts."""

from __future__ import annotations

import asyncio
import re
import resource
import sys

from aiosmtpd.smtp import SMTP, Envelope, Session

from shared.service import run

_MESSAGE_ID = re.compile(rb"^Message-ID: *(<[^>]+>)", re.MULTILINE | re.IGNORECASE)


def cpu_seconds() -> float:
    """CPU time of this process, user and system (the event loop included)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class Counter:
    """Accepts every message and remembers its Message-ID."""

    def __init__(self) -> None:
        self.accepted = 0
        self.ids: set[bytes] = set()

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        """Count one message."""
        data = envelope.original_content or b""
        found = _MESSAGE_ID.search(data, 0, 4096)
        self.accepted += 1
        if found:
            self.ids.add(found.group(1))
        return "250 OK"


async def serve(port: int) -> None:
    """Listen; on each `count` line print `accepted unique cpu-seconds` and reset; stop at EOF."""
    counter = Counter()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(counter, hostname="sink"), "127.0.0.1", port)
    commands = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(commands), sys.stdin)
    print("ready", flush=True)
    while line := await commands.readline():
        if line.strip() == b"count":
            # The bench takes differences of the CPU time.
            print(f"{counter.accepted} {len(counter.ids)} {cpu_seconds():.6f}", flush=True)
            counter.accepted, counter.ids = 0, set()
    server.close()


if __name__ == "__main__":
    # On the loop the mailer runs on: the sink's CPU is about half of the bench's.
    run(serve(int(sys.argv[1])))
