"""Mailer throughput: ledger to SMTP sink, beside raw aiosmtplib sending pre-rendered mail."""

from __future__ import annotations

import asyncio
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

from deploy.servers import free_port
from services.mailer import store
from services.mailer.render import Delivery, compose
from services.mailer.sender import Sender
from shared import db
from shared import messages as m
from shared.clock import Clock
from shared.config import Settings

N = 3000
ROUNDS = 3
N_DKIM = 300
CONNECTIONS = 4
DOMAINS = 50


class Sink:
    """The SMTP sink process (bench/mailer_sink.py), so that it runs on its own core."""

    def __init__(self, process: asyncio.subprocess.Process, port: int) -> None:
        self.process, self.port = process, port

    async def count(self) -> tuple[int, int]:
        """(accepted, distinct Message-IDs) since the last count."""
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(b"count\n")
        accepted, unique = (await self.process.stdout.readline()).split()
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
        yield Sink(process, port)
    finally:
        process.stdin.close()
        await process.wait()


def _address(n: int) -> str:
    return f"c{n}@d{n % DOMAINS}.example"


async def fill(pool: asyncpg.Pool, advisory_id: str, n: int) -> float:
    """Contacts, an advisory and a ledger of `n` deliveries; return batch rows per second."""
    now = datetime.now(UTC)
    async with pool.acquire() as conn:
        await conn.executemany(
            "INSERT INTO contacts (customer_id, email, locale) VALUES ($1, $2, $3)"
            " ON CONFLICT DO NOTHING",
            [(f"c-{i}", _address(i), ("ja-JP", "en-GB", "fr-FR")[i % 3]) for i in range(n)],
        )
    await store.save_advisory(
        pool,
        m.AdvisoryPublished(
            advisory_id=advisory_id,
            version=1,
            agency_id="ag",
            agency_name="製品安全研究所",
            rule=m.AdvisoryRule(kind="short_term"),
            title={"ja": "モバイルバッテリーの安全な使い方", "en": "Using your power bank safely"},
            body={"ja": "充電中は目を離さないでください。", "en": "Never charge it unattended."},
            published_at=now,
            source_url="https://agency.example/pb",
        ),
    )
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
        await store.add_deliveries(pool, batch, now)
    return n / (time.perf_counter() - started)


def prerendered(n: int) -> list[tuple[str, bytes]]:
    """(recipient, wire bytes) of `n` mails like the mailer's, rendered before timing."""
    mails = []
    for i in range(n):
        delivery = Delivery(
            advisory_id="raw",
            customer_id=f"c-{i}",
            email=_address(i),
            name="",
            locale="en",
            agency_name="Institute",
            title={"en": "Using your power bank safely"},
            body={"en": "Never charge it unattended."},
            source_url="https://agency.example/pb",
            purchases=[{"order_id": "A-1", "sku": "PB-1", "title": "Power bank"}],
        )
        _, data = compose([delivery], sender="s@anshin.example", unsubscribe_url="u", list_id="l")
        mails.append((delivery.email, data))
    return mails


async def raw_send(port: int, mails: Sequence[tuple[str, bytes]]) -> float:
    """Send pre-rendered mail over CONNECTIONS reused connections; return mails per second."""

    async def worker(share: Sequence[tuple[str, bytes]]) -> None:
        smtp = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, start_tls=False)
        await smtp.connect()
        for recipient, data in share:
            await smtp.sendmail("s@anshin.example", [recipient], data)
        await smtp.quit()

    started = time.perf_counter()
    await asyncio.gather(*(worker(mails[k::CONNECTIONS]) for k in range(CONNECTIONS)))
    return len(mails) / (time.perf_counter() - started)


async def mailer_send(pool: asyncpg.Pool, settings: Settings, n: int) -> float:
    """Run the mailer's sender until the ledger is drained; return mails per second."""
    sender = Sender(pool, settings, Clock(), asyncio.Event())
    started = time.perf_counter()
    await sender.run(until_idle=True)
    elapsed = time.perf_counter() - started
    await sender.smtp.close()
    return n / elapsed


async def run(database_url: str) -> dict[str, list[float]]:
    """Figures of ROUNDS alternating runs (the machine is shared), then one with DKIM."""
    pool = await db.create_pool(database_url, "mailer")
    await db.migrate(pool, "mailer", "services.mailer")
    figures: dict[str, list[float]] = {"fill": [], "raw": [], "mailer": [], "dkim": []}
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
        for n in range(ROUNDS):
            figures["fill"].append(await fill(pool, f"adv-{n}", N))
            for which in ("raw", "mailer") if n % 2 == 0 else ("mailer", "raw"):
                if which == "raw":
                    figures["raw"].append(await raw_send(smtp_sink.port, prerendered(N)))
                else:
                    figures["mailer"].append(await mailer_send(pool, settings, N))
                assert await smtp_sink.count() == (N, N), "every mail exactly once"
        with tempfile.TemporaryDirectory() as tmp:
            key = Path(tmp) / "dkim.pem"
            openssl = await asyncio.create_subprocess_exec(
                "openssl", "genrsa", "-out", str(key), "2048", stderr=subprocess.DEVNULL
            )  # fmt: skip
            assert await openssl.wait() == 0
            await fill(pool, "adv-dkim", N_DKIM)
            signed = msgspec.structs.replace(settings, dkim_selector="s1", dkim_key_file=str(key))
            figures["dkim"].append(await mailer_send(pool, signed, N_DKIM))
        assert await smtp_sink.count() == (N_DKIM, N_DKIM)
    await pool.close()
    return figures


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
    print(f"  the same with DKIM (RSA-2048, dkimpy)   {figures['dkim'][0]:8,.0f} mail/s")
    fill = statistics.median(figures["fill"])
    print(f"  ledger filled from batches of 500       {fill:8,.0f} rows/s")
