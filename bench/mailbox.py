"""The local mailbox of `make up`: what taking a mail costs (raw bytes, against parsing it first
as before), and the reading page with 100,000 mails in the Maildir (written directly)."""

from __future__ import annotations

import asyncio
import mailbox
import tempfile
import time
from email.message import EmailMessage
from pathlib import Path

import aiohttp
import aiosmtplib
from aiohttp import web
from aiosmtpd.handlers import Mailbox
from aiosmtpd.smtp import SMTP

from deploy import maildir
from deploy.mailbox import RawMaildir, reading
from deploy.servers import free_port

MAILS = 100_000
SENT = 2_000


def _mail(n: int) -> EmailMessage:
    message = EmailMessage()
    message["From"], message["To"] = "shop@anshin.example", f"c{n}@example.jp"
    message["Subject"] = f"地震のあとの発電機 {n}"
    message["Message-ID"] = f"<{n}@anshin.example>"
    message.set_content("一酸化炭素に注意してください。屋内では使わないでください。\n" * 8)
    message.add_alternative("<p>一酸化炭素に<b>注意</b>してください。</p>" * 8, subtype="html")
    return message


async def _taken_per_s(handler: object) -> float:
    """Mails a second the SMTP server takes with this handler, over one connection."""
    port = free_port()
    server = await asyncio.get_running_loop().create_server(
        lambda: SMTP(handler, hostname="localhost"), "127.0.0.1", port
    )
    mails = [(f"c{n}@example.jp", _mail(n).as_bytes()) for n in range(SENT)]
    try:
        async with aiosmtplib.SMTP(hostname="127.0.0.1", port=port) as smtp:
            started = time.perf_counter()
            for rcpt, raw in mails:
                await smtp.sendmail("bounce@anshin.example", [rcpt], raw)
            return SENT / (time.perf_counter() - started)
    finally:
        server.close()


async def _page_ms(http: aiohttp.ClientSession, url: str, times: int = 5) -> float:
    """The median time of a page, in milliseconds."""
    took = []
    for _ in range(times):
        started = time.perf_counter()
        async with http.get(url) as reply:
            await reply.read()
            assert reply.status == 200
        took.append(time.perf_counter() - started)
    return sorted(took)[len(took) // 2] * 1000


async def run() -> dict[str, float]:
    """The figures, measured in a temporary folder."""
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as folder:
        raw_root, parsed_root = Path(folder) / "raw", Path(folder) / "parsed"
        maildir.prepare(raw_root)
        figures["raw_per_s"] = await _taken_per_s(RawMaildir(raw_root))
        mailbox.Maildir(str(parsed_root), create=True)
        figures["parsed_per_s"] = await _taken_per_s(Mailbox(parsed_root))
        body = _mail(0).as_bytes()
        for _ in range(MAILS - SENT):
            maildir.deliver(raw_root, body)
        runner = web.AppRunner(reading(raw_root), access_log=None)
        await runner.setup()
        port = free_port()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        try:
            async with aiohttp.ClientSession() as http:
                base = f"http://127.0.0.1:{port}"
                started = time.perf_counter()
                async with http.get(f"{base}/") as reply:
                    await reply.read()
                figures["first_page_ms"] = (time.perf_counter() - started) * 1000
                figures["page_ms"] = await _page_ms(http, f"{base}/")
                figures["last_page_ms"] = await _page_ms(http, f"{base}/?page={MAILS // 50}")
                key = maildir.Listing(raw_root).keys()[0]
                figures["mail_ms"] = await _page_ms(http, f"{base}/m/{key}")
        finally:
            await runner.cleanup()
    return figures


def report(figures: dict[str, float]) -> None:
    """Print the figures."""
    raw, parsed = figures["raw_per_s"], figures["parsed_per_s"]
    print(f"local mailbox: {SENT} mails over SMTP, then {MAILS:,} in the Maildir")
    print(f"  parsed before writing (before)  {parsed:10,.0f} mail/s")
    print(f"  raw bytes written               {raw:10,.0f} mail/s   ratio {raw / parsed:.2f}")
    print(f"  reading page, first (listing)   {figures['first_page_ms']:10,.1f} ms")
    print(f"  reading page, again (median)    {figures['page_ms']:10,.1f} ms")
    print(f"  last page (median)              {figures['last_page_ms']:10,.1f} ms")
    print(f"  one mail shown (median)         {figures['mail_ms']:10,.1f} ms")


if __name__ == "__main__":
    report(asyncio.run(run()))
