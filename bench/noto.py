"""Issue 22's end-to-end Noto replay: the USGS feature of the 2024 Noto quake POSTed to
/v1/events at the stack's time (as `make demo` replays it), every mail counted in the local
mailbox. Baseline in the same run: the same mails' bytes sent straight into the same
mailbox by aiosmtplib over as many connections as the mailer uses."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import aiosmtplib
import msgspec

from bench import arrivals, cpu
from bench.stack import Stack
from deploy import demo_advice
from deploy.demo_stack import Stack as Client


async def replay(stack: Stack, client: Client, expected: set[str]) -> dict[str, Any]:
    """Declare the quake; wait for its mail; the verdict, the CPU by process, the mails."""
    quake = demo_advice.replayed(demo_advice.noto_quake(), stack.clock.now())
    before = arrivals.keys(stack.maildir)
    span = cpu.Span()
    span.start()
    event_at = time.time()
    answer = await client.call(
        "POST",
        f"{stack.url('advisory')}/v1/events",
        ok=(201,),
        data=msgspec.json.encode(quake),
        headers={"Content-Type": "application/geo+json"},
    )
    names = await arrivals.wait(stack.maildir, before, len(expected))
    span.stop(stack.pids(), only_named=True)
    mails = arrivals.read(stack.maildir, names)
    return {
        "verdict": arrivals.verdict(mails, expected, event_at),
        "cpu": span,
        "names": names,
        "event": answer["id"],
    }


def _stripped(path: Path) -> bytes:
    """A received mail without the three envelope lines the mailbox put on top."""
    raw = path.read_bytes()
    for _ in range(3):
        raw = raw.split(b"\r\n", 1)[1] if raw.startswith(b"X-") else raw
    return raw


async def raw_into_mailbox(stack: Stack, names: set[str]) -> float:
    """Seconds to send these mails again, as bytes, straight into the local mailbox."""
    mails = [_stripped(stack.maildir / "new" / n) for n in sorted(names)]
    connections = stack.settings.smtp_connections
    sender = "bounce@anshin.example"

    async def one(share: list[bytes], offset: int) -> None:
        port = stack.settings.smtp_port
        async with aiosmtplib.SMTP(hostname="127.0.0.1", port=port) as smtp:
            for n, raw in enumerate(share):
                await smtp.sendmail(sender, [f"raw{offset + n}@raw.example"], raw)

    started = time.perf_counter()
    async with asyncio.TaskGroup() as group:
        for c in range(connections):
            group.create_task(one(mails[c::connections], c * len(mails)))
    return time.perf_counter() - started
