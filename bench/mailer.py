"""Mailer throughput: ledger to SMTP sink, beside raw aiosmtplib sending pre-rendered mail."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

import aiosmtplib
import asyncpg
import msgspec

from bench.mailer_sink import cpu_seconds
from deploy.servers import free_port
from services.mailer import store
from services.mailer.claim import Mail
from services.mailer.sender import Sender
from shared import db
from shared import messages as m
from shared.clock import Clock
from shared.config import Settings
from shared.mail.render import Delivery
from shared.service import freeze_heap

N = 3000
ROUNDS = 3
CONNECTIONS = 4
DOMAINS = 50
# The advisory of every round: the baseline pre-renders the very mails the mailer sends.
AGENCY = "製品安全研究所"
TITLE = {"ja": "モバイルバッテリーの安全な使い方", "en": "Using your power bank safely"}
BODY = {"ja": "充電中は目を離さないでください。", "en": "Never charge it unattended."}
SOURCE = "https://agency.example/pb"


class Sink:
    """The SMTP sink process (bench/mailer_sink.py), so that it runs on its own core."""

    def __init__(self, process: asyncio.subprocess.Process, port: int) -> None:
        self.process, self.port = process, port
        self.cpu = 0.0  # the sink's CPU seconds at the last count
        self.spent = 0.0  # its CPU seconds between the last two counts

    async def count(self) -> tuple[int, int]:
        """(accepted, distinct Message-IDs) since the last count."""
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(b"count\n")
        accepted, unique, cpu = (await self.process.stdout.readline()).split()
        self.spent, self.cpu = float(cpu) - self.cpu, float(cpu)
        return int(accepted), int(unique)


@contextlib.asynccontextmanager
async def sink() -> AsyncIterator[Sink]:
    """Start the sink process; stop it at the end."""
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.mailer_sink", str(port),
        stdin=subprocess.PIPE, stdout=subprocess.PIPE,
    )  # fmt: skip
    assert process.stdout is not None and process.stdin is not None
    assert (await process.stdout.readline()).strip() == b"ready"
    try:
        found = Sink(process, port)
        await found.count()  # the CPU of its start-up is nobody's
        yield found
    finally:
        process.stdin.close()
        await process.wait()


def _address(n: int) -> str:
    return f"c{n}@d{n % DOMAINS}.example"


def _locale(n: int) -> str:
    return ("ja-JP", "en-GB", "fr-FR")[n % 3]


async def fill(pool: asyncpg.Pool, advisory_id: str, n: int) -> float:
    """Contacts, an advisory and a ledger of `n` deliveries; return batch rows per second."""
    now = datetime.now(UTC)
    async with pool.acquire() as conn:
        await conn.executemany(
            "INSERT INTO contacts (customer_id, email, locale) VALUES ($1, $2, $3)"
            " ON CONFLICT DO NOTHING",
            [(f"c-{i}", _address(i), _locale(i)) for i in range(n)],
        )
    advice = m.AdvisoryPublished(
        advisory_id=advisory_id,
        version=1,
        agency_id="ag",
        agency_name=AGENCY,
        rule=m.ShortTerm(),
        title=TITLE,
        body=BODY,
        published_at=now,
        source_url=SOURCE,
    )
    async with db.unit_of_work(pool, transaction=False) as conn:
        await store.save_advisory(conn, advice)
    purchase = m.Purchase(channel="web", order_id="A-1", sku="PB-1", title="Power bank")
    started = time.perf_counter()
    for first in range(0, n, 500):
        recipients = [
            m.Recipient(customer_id=f"c-{i}", reason="publication", purchases=[purchase])
            for i in range(first, min(n, first + 500))
        ]
        batch = m.DeliveryBatch(
            batch_id=f"{advisory_id}:{first}",
            advisory_id=advisory_id,
            kind="short_term",
            priority=m.Priority.SHORT_TERM,
            requested_at=now,
            recipients=recipients,
        )
        async with db.unit_of_work(pool, transaction=False) as conn:  # as the mailer's handler
            await store.add_deliveries(conn, batch, now)
    return n / (time.perf_counter() - started)


def prerendered(pool: asyncpg.Pool, settings: Settings, n: int) -> list[tuple[str, bytes]]:
    """(recipient, wire bytes) of mails like the mailer's, rendered by its sender before timing.

    The same headers, links and advice: only their advisory id differs.
    """
    sender = Sender(pool, settings, Clock(), asyncio.Event())  # it connects to SMTP only to send
    mails = []
    for i in range(n):
        delivery = Delivery(
            advisory_id="raw",
            customer_id=f"c-{i}",
            email=_address(i),
            name="",
            locale=_locale(i),
            agency_name=AGENCY,
            title=TITLE,
            body=BODY,
            source_url=SOURCE,
            purchases=[{"order_id": "A-1", "sku": "PB-1", "title": "Power bank"}],
            kind="short_term",
            reason="publication",
            page_url=f"{sender.config.public_url}/safety/raw",
        )
        mail = Mail(message_id="", email=delivery.email, attempts=0, deliveries=[delivery])
        mails.append((delivery.email, sender.envelope(mail).data))
    return mails


async def raw_send(port: int, mails: Sequence[tuple[str, bytes]]) -> tuple[float, float]:
    """Send pre-rendered mail over CONNECTIONS reused connections: (mails/s, CPU s per mail)."""

    async def worker(share: Sequence[tuple[str, bytes]]) -> None:
        smtp = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, start_tls=False)
        await smtp.connect()
        await smtp.ehlo()
        # aiosmtplib's leanest path, as the mailer takes it: MAIL, RCPT, DATA (sendmail
        # parses each address twice and runs a regex over the message once more).
        for recipient, data in share:
            await smtp.mail("s@anshin.example", options=[f"SIZE={len(data)}"])
            await smtp.rcpt(recipient)
            await smtp.data(data)
        await smtp.quit()

    started, cpu = time.perf_counter(), cpu_seconds()
    await asyncio.gather(*(worker(mails[k::CONNECTIONS]) for k in range(CONNECTIONS)))
    elapsed, cpu = time.perf_counter() - started, cpu_seconds() - cpu
    return len(mails) / elapsed, cpu / len(mails)


async def mailer_send(pool: asyncpg.Pool, settings: Settings, n: int) -> tuple[float, float]:
    """Run the mailer's sender until the ledger is drained: (mails/s, CPU s per mail)."""
    sender = Sender(pool, settings, Clock(), asyncio.Event())
    started, cpu = time.perf_counter(), cpu_seconds()
    await sender.run(until_idle=True)
    elapsed, cpu = time.perf_counter() - started, cpu_seconds() - cpu
    await sender.smtp.close()
    return n / elapsed, cpu / n


async def dkim_keys(folder: Path) -> tuple[Path, Path]:
    """An RSA-2048 and an Ed25519 key, made by openssl as an operator would."""
    rsa, ed = folder / "rsa.pem", folder / "ed25519.pem"
    for args in (["genrsa", "-out", str(rsa), "2048"], ["genpkey", "-algorithm", "ed25519",
                                                        "-out", str(ed)]):  # fmt: skip
        made = await asyncio.create_subprocess_exec("openssl", *args, stderr=subprocess.DEVNULL)
        assert await made.wait() == 0
    return rsa, ed


async def run(database_url: str) -> dict[str, list[float]]:
    """Figures of ROUNDS alternating runs (the machine is shared): the baseline, the mailer,
    the mailer signing with DKIM (RSA-2048); then one run signing with RSA and Ed25519, and
    one with Ed25519 alone."""
    pool = await db.create_pool(database_url, "mailer")
    await db.migrate(pool, "mailer", "services.mailer")
    freeze_heap()  # as the mailer service does once it listens
    figures: dict[str, list[float]] = collections.defaultdict(list)
    async with sink() as smtp_sink:
        settings = Settings(
            database_url=database_url,
            smtp_port=smtp_sink.port,
            smtp_connections=CONNECTIONS,
            send_rate_per_second=1e9,  # limits on, so their SQL runs, but never binding
            send_rate_per_domain=1e9,
            routine_cap=100,  # the cap's SQL runs too, but every round's mail goes out
            quiet_hours="off",  # the figures must not depend on the hour of the run
        )
        with tempfile.TemporaryDirectory() as tmp:
            rsa, ed = await dkim_keys(Path(tmp))
            signed = msgspec.structs.replace(settings, dkim_selector="s1", dkim_key_file=str(rsa))
            both = msgspec.structs.replace(
                signed, dkim_ed25519_selector="e1", dkim_ed25519_key_file=str(ed)
            )
            order = ["raw", "mailer", "dkim"]
            for n in range(ROUNDS):
                for which in order[n % 3 :] + order[: n % 3]:  # each goes first once
                    if which == "raw":
                        rate, cpu = await raw_send(smtp_sink.port, prerendered(pool, settings, N))
                    else:
                        figures["fill"].append(await fill(pool, f"adv-{which}-{n}", N))
                        chosen = signed if which == "dkim" else settings
                        rate, cpu = await mailer_send(pool, chosen, N)
                    assert await smtp_sink.count() == (N, N), "every mail exactly once"
                    figures[which].append(rate)
                    figures[f"{which}_ms"].append(cpu * 1000)
                    figures[f"{which}_sink_ms"].append(smtp_sink.spent / N * 1000)
            ed_only = msgspec.structs.replace(settings, dkim_selector="e1", dkim_key_file=str(ed))
            for which, chosen in (("dkim_both", both), ("dkim_ed25519", ed_only)):
                await fill(pool, f"adv-{which}", N)
                figures[which].append((await mailer_send(pool, chosen, N))[0])
                assert await smtp_sink.count() == (N, N)
    await pool.close()
    return dict(figures)


def report(figures: dict[str, list[float]]) -> None:
    """Print medians beside the baseline, and every round for the noise."""
    raw, ours = statistics.median(figures["raw"]), statistics.median(figures["mailer"])
    rounds = " ".join(
        f"{o / r:.2f}" for o, r in zip(figures["mailer"], figures["raw"], strict=True)
    )
    print(f"mailer: {N} mails x {ROUNDS} rounds, {CONNECTIONS} SMTP connections, aiosmtpd sink")
    print(f"  raw aiosmtplib, pre-rendered (baseline) {raw:8,.0f} mail/s")
    print(f"  claim + render + send + record          {ours:8,.0f} mail/s   ratio {ours / raw:.2f}")
    print(f"    ratio in each round: {rounds}")
    for which in ("raw", "mailer", "dkim"):
        ms, sink_ms = figures[f"{which}_ms"], figures[f"{which}_sink_ms"]
        each = " ".join(f"{x:.2f}" for x in ms)
        print(
            f"  CPU ms a mail, {which:6}: sender {statistics.median(ms):.2f} ({each}),"
            f" sink {statistics.median(sink_ms):.2f}"
        )
    # The sink is one process: its CPU a mail bounds every sender, the baseline's too.
    sink_cpu = statistics.median(figures["raw_sink_ms"] + figures["mailer_sink_ms"])
    print(f"  the sink alone takes at most            {1000 / sink_cpu:8,.0f} mail/s")
    signed = statistics.median(figures["dkim"])
    each = " ".join(f"{d / o:.2f}" for d, o in zip(figures["dkim"], figures["mailer"], strict=True))
    print(
        f"  the same, DKIM-signed (RSA-2048)        {signed:8,.0f} mail/s   signed/unsigned"
        f" {signed / ours:.2f} (each round: {each}; goal 0.8)"
    )
    for which, label in (
        ("dkim_both", "twice (RSA-2048 + Ed25519)"),
        ("dkim_ed25519", "Ed25519 alone"),
    ):
        rate = figures[which][0]
        print(
            f"  DKIM-signed, {label:26} {rate:8,.0f} mail/s   signed/unsigned {rate / ours:.2f}"
            " (one run)"
        )
    fill = statistics.median(figures["fill"])
    print(f"  ledger filled from batches of 500       {fill:8,.0f} rows/s")
