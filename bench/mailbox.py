"""The local mailbox of `make up`: the CPU it spends a mail, in its own process as `make up`
runs it (a command at a time, as the mailer sends today, and pipelined), and the reading page
with 100,000 mails in the Maildir (written directly).

CPU time, not wall time: other work on the machine changes the second far less than the
first. `python -m bench.mailbox [MAILS]` runs it alone.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import tempfile
import time
from email.message import EmailMessage
from pathlib import Path

import aiohttp
from aiohttp import web

from deploy import maildir
from deploy.mailbox import reading
from deploy.servers import free_port, wait_for_port

MAILS = 100_000
SENT = 4_000
CONNECTIONS = 4  # the mailer's default (ANSHIN_SMTP_CONNECTIONS)
# A Maildir in memory shows the mailbox's own cost: creating a file on this VM's disk costs
# from 0.01 to 0.9 ms of kernel time, as few or many files near it were deleted lately
# (docs/mailer.md, "The local mailbox, made cheaper").
MEMORY = "/dev/shm"
_TICK = os.sysconf("SC_CLK_TCK")


def _mail(n: int) -> EmailMessage:
    message = EmailMessage()
    message["From"], message["To"] = "shop@anshin.example", f"c{n}@example.jp"
    message["Subject"] = f"地震のあとの発電機 {n}"
    message["Message-ID"] = f"<{n}@anshin.example>"
    message.set_content("一酸化炭素に注意してください。屋内では使わないでください。\n" * 8)
    message.add_alternative("<p>一酸化炭素に<b>注意</b>してください。</p>" * 8, subtype="html")
    return message


def _wire(n: int) -> bytes:
    """A mail as DATA carries it: CRLF line ends, dot-stuffed, the lone dot after it."""
    lines = _mail(n).as_bytes().replace(b"\r\n", b"\n").split(b"\n")
    return b"".join((b"." if line.startswith(b".") else b"") + line + b"\r\n" for line in lines)


def _cpu_seconds(pid: int) -> tuple[float, float]:
    """A process's user and system CPU seconds so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) / _TICK, int(fields[12]) / _TICK


async def _reply(reader: asyncio.StreamReader) -> bytes:
    """One whole reply (the last line of a multi-line one)."""
    while (line := await reader.readline())[3:4] == b"-":
        pass
    if line[:1] not in (b"2", b"3"):
        raise RuntimeError(f"the mailbox answered {line!r}")
    return line


async def _send(port: int, mails: list[bytes], pipelined: bool) -> None:
    """Send the mails over one connection: each command after the last one's reply, or MAIL,
    RCPT and DATA in one write (RFC 2920), their three replies read after it."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    await _reply(reader)
    writer.write(b"EHLO bench\r\n")
    await _reply(reader)
    for n, body in enumerate(mails):
        rcpt = f"RCPT TO:<c{n}@example.jp>\r\n".encode()
        for command in (b"MAIL FROM:<bounce@anshin.example>\r\n", rcpt, b"DATA\r\n"):
            writer.write(command)
            if not pipelined:
                await _reply(reader)
        if pipelined:
            for _ in range(3):
                await _reply(reader)
        writer.write(body + b".\r\n")
        await _reply(reader)
    writer.write(b"QUIT\r\n")
    await _reply(reader)
    writer.close()


async def cpu_ms_a_mail(mails: int = SENT, under: str | None = None) -> dict[str, float]:
    """The mailbox's CPU milliseconds a mail (and of them in the kernel), and mails a second,
    each way of sending; its Maildir in a temporary folder `under` a folder."""
    wire = [_wire(n) for n in range(mails // CONNECTIONS)]
    sent = len(wire) * CONNECTIONS
    figures: dict[str, float] = {"mails": sent}
    with tempfile.TemporaryDirectory(dir=under) as folder:
        port = free_port()
        command = ["-m", "deploy.mailbox", "--maildir", folder, "--smtp-port", str(port)]
        server = await asyncio.create_subprocess_exec(
            sys.executable, *command, "--web-port", str(free_port())
        )
        try:
            await asyncio.to_thread(wait_for_port, port)
            for pipelined in (False, True, False, True):  # alternated: the machine is shared
                name = "pipelined" if pipelined else "one_by_one"
                (user, system), started = _cpu_seconds(server.pid), time.perf_counter()
                await asyncio.gather(*(_send(port, wire, pipelined) for _ in range(CONNECTIONS)))
                wall = time.perf_counter() - started
                user_after, system_after = _cpu_seconds(server.pid)
                used = user_after - user + system_after - system
                for figure, value in (
                    ("ms", used / sent * 500),  # the mean of two runs, in milliseconds
                    ("sys_ms", (system_after - system) / sent * 500),
                    ("per_s", sent / wall / 2),
                ):
                    figures[f"{name}_{figure}"] = figures.get(f"{name}_{figure}", 0.0) + value
        finally:
            server.send_signal(signal.SIGTERM)
            await server.wait()
    return figures


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
    figures = await cpu_ms_a_mail()
    report_cpu(figures, "on disk")
    report_cpu(await cpu_ms_a_mail(under=MEMORY), f"in {MEMORY}")
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        maildir.prepare(root)
        body = _mail(0).as_bytes()
        for _ in range(MAILS):
            maildir.deliver(root, body)
        runner = web.AppRunner(reading(root), access_log=None)
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
                key = maildir.Listing(root).keys()[0]
                figures["mail_ms"] = await _page_ms(http, f"{base}/m/{key}")
        finally:
            await runner.cleanup()
    return figures


def report_cpu(figures: dict[str, float], where: str) -> None:
    """Print the CPU figures."""
    mails = int(figures["mails"])
    print(f"local mailbox, Maildir {where}: {mails} mails, {CONNECTIONS} connections, twice")
    for name, label in (("one_by_one", "a command at a time"), ("pipelined", "pipelined")):
        cpu, system = figures[f"{name}_ms"], figures[f"{name}_sys_ms"]
        print(
            f"  {label:<22} {cpu:6.3f} ms CPU a mail ({system:5.3f} in the kernel)"
            f"  {figures[f'{name}_per_s']:8,.0f} mail/s"
        )


def report(figures: dict[str, float]) -> None:
    """Print the figures."""
    print(f"  then {MAILS:,} in the Maildir")
    print(f"  reading page, first (listing)   {figures['first_page_ms']:10,.1f} ms")
    print(f"  reading page, again (median)    {figures['page_ms']:10,.1f} ms")
    print(f"  last page (median)              {figures['last_page_ms']:10,.1f} ms")
    print(f"  one mail shown (median)         {figures['mail_ms']:10,.1f} ms")


async def _alone(count: int) -> None:
    for _ in range(2):  # alternated: the machine is shared
        report_cpu(await cpu_ms_a_mail(count), "on disk")
        report_cpu(await cpu_ms_a_mail(count, MEMORY), f"in {MEMORY}")


if __name__ == "__main__":
    asyncio.run(_alone(int(sys.argv[1]) if len(sys.argv) > 1 else SENT))
