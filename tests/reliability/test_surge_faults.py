"""Surges of thousands of mails through the real stack while things break.

Each scenario runs the stack as `make up` does (`python -m deploy.local up`, processes, the
launcher restarting what dies) on NATS, PostgreSQL and SMTP servers of its own, posts a
shop's orders and a recall with an embargo a few seconds ahead, breaks something while
the mail flows, and then checks at the SMTP server that every customer got the recall,
none twice, and that the mailer's ledger agrees. The quick versions run in `make test`;
the full ones (more mail, every fault repeated) in `make reliability`.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import msgspec
import pytest

from deploy.local_env import SERVICES
from deploy.servers import NatsServer
from tests.support.faults import CountingSink, NatsCluster
from tests.support.figures import record
from tests.support.stack import LaunchedStack, create_agency, launch_env
from tests.support.surge import (
    Verdict,
    email_of,
    load_shop,
    post_recall,
    verdict,
    wait_delivered,
)
from tests.support.watch import metrics_texts, personal_data

FAST = pytest.param(
    "fast", marks=[pytest.mark.reliability_fast, pytest.mark.timeout(400)], id="fast"
)
FULL = pytest.param("full", marks=[pytest.mark.reliability, pytest.mark.timeout(1500)], id="full")
CUSTOMERS = {"fast": 1500, "full": 6000}
EMBARGO_SECONDS = 8
SETTLE_SECONDS = 7  # longer than the mailer's sweep: a late second copy would show


@dataclass
class Surge:
    """One surge in progress: what the faults need to know to strike at the right moment."""

    stack: LaunchedStack
    sink: CountingSink
    http: aiohttp.ClientSession
    database_url: str
    customers: int
    advisory_id: str = ""
    embargo: datetime = field(default_factory=lambda: datetime.now(UTC))

    def share_sent(self) -> float:
        """Share of the customers whose mail the SMTP server accepted."""
        if not self.advisory_id:
            return 0.0
        return len(self.sink.addresses_of(self.advisory_id)) / self.customers

    async def until(self, share: float, timeout: float = 600) -> None:
        """Wait until that share of the mail went out."""
        async with asyncio.timeout(timeout):
            while self.share_sent() < share:
                await asyncio.sleep(0.1)

    async def until_published(self) -> None:
        """Wait until the embargo time has passed."""
        while not self.advisory_id or datetime.now(UTC) < self.embargo:
            await asyncio.sleep(0.1)


Fault = Callable[[Surge], Coroutine[Any, Any, int]]


@contextlib.asynccontextmanager
async def launched(data: Path, **settings: str) -> AsyncIterator[LaunchedStack]:
    """The stack as `make up` runs it, stopped at the end."""
    stack = LaunchedStack(data, launch_env(data, **settings))
    await asyncio.to_thread(stack.start)
    try:
        yield stack
    finally:
        await asyncio.to_thread(stack.stop)


async def surge(
    name: str, scale: str, stack: LaunchedStack, sink: CountingSink, database_url: str,
    fault: Fault, *, timeout: float = 300,
) -> tuple[Verdict, int]:  # fmt: skip
    """Run one surge with a fault striking in it; return the verdict and the faults injected."""
    customers = CUSTOMERS[scale]
    prefix = name.split()[0].lower()[:8] + scale[0]
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True)) as http:
        run = Surge(stack, sink, http, database_url, customers)
        key = await create_agency(stack.env, f"Agency {name}")
        started = time.monotonic()
        run.embargo = datetime.now(UTC) + timedelta(seconds=EMBARGO_SECONDS)
        run.advisory_id = await post_recall(http, stack, key, f"HZ-{prefix}", run.embargo)
        striking = asyncio.create_task(fault(run))
        await load_shop(http, stack, prefix, f"HZ-{prefix}", customers)
        await wait_delivered(sink, run.advisory_id, customers, database_url, timeout)
        delivered = time.monotonic()
        faults = await striking
        await asyncio.sleep(SETTLE_SECONDS)
        addresses = {email_of(prefix, i) for i in range(customers)}
        found = await verdict(sink, run.advisory_id, addresses, database_url, started)
        # From the embargo to the last mail recorded: the surge's own duration.
        found.seconds = delivered - started - EMBARGO_SECONDS
        # No address, name or street of the shop's customers in any log line or metric.
        texts = {p.name: p.read_text(errors="replace") for p in stack.log_files()}
        texts |= await metrics_texts(stack.url(s) for s in SERVICES)
        found.leaks = personal_data(texts, [r"@shop\d+\.example", "Sakuraba", "Hoshimi"])
        return found, faults


def report(name: str, found: Verdict, faults: int, note: str = "", explained: int = 0) -> None:
    """Record the scenario's figures for the table."""
    survived = faults if found.lost == 0 and found.ledger_agrees else 0
    extra = f"; {explained} duplicates explained" if explained else ""
    record(
        name,
        load=found.expected,
        faults=faults,
        survived=survived,
        lost=found.lost,
        duplicates=found.duplicates,
        leaks=len(found.leaks),
        seconds=found.seconds,
        note=f"{found.expected / found.seconds:,.0f} mail/s from the embargo{extra}; {note}",
    )


def assert_whole(found: Verdict) -> None:
    """Every customer got the mail, and the ledger says so with the same Message-IDs."""
    assert found.lost == 0, found
    assert found.ledger_agrees, found
    assert found.leaks == [], found.leaks[:5]


@pytest.mark.parametrize("scale", [FAST, FULL])
async def test_a_surge_survives_smtp_deferring_a_fifth(
    scale: str, tmp_path: Path, database_url: str, nats_url: str
) -> None:
    sink = CountingSink()
    await sink.start()

    async def fault(run: Surge) -> int:
        await run.until(0.05)
        sink.defer_share = 0.2  # 451 to a fifth of the messages...
        await run.until(0.6)
        sink.defer_share = 0.0  # ...for a while
        return 1

    try:
        async with launched(
            tmp_path / "data", NATS_URL=nats_url, DATABASE_URL=database_url,
            ANSHIN_SMTP_PORT=str(sink.port),
        ) as stack:  # fmt: skip
            found, faults = await surge("SMTP 4xx to a fifth", scale, stack, sink, database_url,
                                        fault)  # fmt: skip
    finally:
        await sink.stop()
    report(f"SMTP 451 to 1/5 of mail ({scale})", found, faults,
           f"{sink.deferred:,} mails deferred and retried")  # fmt: skip
    assert sink.deferred > 0
    assert_whole(found)
    assert found.duplicates == 0, found


# Which service dies when: before the embargo (ingest takes orders, advisory holds the
# embargo), during the fan-out (matcher) and mid-send (mailer); the full run repeats it.
# Each round: (service, when to kill it: None at once, "published", or a fraction of the mail).
ROUNDS: dict[str, list[list[tuple[str, str | float | None]]]] = {
    "fast": [[("ingest", None), ("advisory", None), ("matcher", "published"), ("mailer", 0.5)]],
    "full": [
        [("ingest", None), ("advisory", None), ("matcher", "published"), ("mailer", 0.15)],
        [("ingest", 0.3), ("matcher", 0.35), ("advisory", 0.4), ("mailer", 0.5)],
        [("matcher", 0.6), ("ingest", 0.65), ("advisory", 0.7), ("mailer", 0.8)],
    ],
}


CONNECTIONS = 4  # ANSHIN_SMTP_CONNECTIONS of the launched stack (its default)
RESUME_SECONDS = 15  # a killed mailer's claimed mail is sent again within this


@dataclass
class MailerKill:
    """One SIGKILL of the mailer mid-send: what its claim held, and when that came back."""

    at: float  # monotonic time of the kill
    claimed: set[str]  # Message-IDs of the rows in flight ('sending') when it died
    accepted: set[str]  # Message-IDs the SMTP server had accepted by then
    first_mail: float = -1.0  # seconds until the server accepted any new mail
    resumed: float = -1.0  # seconds until it accepted a mail of the dead claim


def duplicates_by_kill(kills: list[MailerKill], sink: CountingSink) -> list[int]:
    """Copies beyond the first of each dead claim's mails; a mail that two dead claims held
    (claimed again and in flight at the next kill) counts for the first."""
    counted: set[str] = set()
    found = []
    for kill in kills:
        mine = kill.claimed - counted
        counted |= mine
        found.append(sum(sink.by_id[mid] - 1 for mid in mine if sink.by_id[mid] > 1))
    return found


async def _in_flight(database_url: str) -> dict[str, set[str]]:
    """Message-IDs of the rows in flight, by the token of the claim that holds them."""
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch(
            "SELECT claim_token::text AS token, message_id FROM mailer.deliveries"
            " WHERE state = 'sending'"
        )
    finally:
        await conn.close()
    claims: dict[str, set[str]] = {}
    for r in rows:
        claims.setdefault(r["token"], set()).add(r["message_id"])
    return claims


async def kill_mailer(run: Surge, kills: list[MailerKill], seen: set[str]) -> float:
    """SIGKILL the mailer, note what its claims held, wait until its successor is ready.

    A claim of a mailer killed before whose lease has not run out yet is still in flight:
    it is that kill's, not this one's (`seen` holds the tokens of earlier kills).
    """
    old = run.stack.pid_of("mailer")
    os.kill(old, signal.SIGKILL)
    run.stack.kills["mailer"] += 1
    at, claims = time.monotonic(), await _in_flight(run.database_url)
    claimed = {mid for token, ids in claims.items() if token not in seen for mid in ids}
    seen.update(claims)
    kill = MailerKill(at, claimed, set(run.sink.by_id))
    kills.append(kill)
    await run.stack.wait_ready("mailer", run.http, not_pid=old)
    return time.monotonic() - kill.at


async def watch_resumption(run: Surge, kill: MailerKill, timeout: float = 120) -> None:
    """Time until the server accepts new mail, and mail of the dead claim not accepted before."""
    waiting = kill.claimed - kill.accepted
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(timeout):
            while kill.resumed < 0:
                new = set(run.sink.by_id) - kill.accepted
                if new and kill.first_mail < 0:
                    kill.first_mail = time.monotonic() - kill.at
                if new & waiting or not waiting:
                    kill.resumed = time.monotonic() - kill.at
                await asyncio.sleep(0.05)


@pytest.mark.parametrize("scale", [FAST, FULL])
async def test_a_surge_survives_sigkill_of_each_service(
    scale: str, tmp_path: Path, database_url: str, nats_url: str
) -> None:
    sink = CountingSink()
    await sink.start()
    restarts: list[float] = []
    mailer_kills: list[MailerKill] = []
    tokens: set[str] = set()
    watching: list[asyncio.Task[None]] = []

    async def fault(run: Surge) -> int:
        for round_ in ROUNDS[scale]:
            for service, when in round_:
                if when == "published":
                    await run.until_published()
                    await asyncio.sleep(0.3)
                elif isinstance(when, float):
                    await run.until(when)
                if service == "mailer":
                    restarts.append(await kill_mailer(run, mailer_kills, tokens))
                    watching.append(asyncio.create_task(watch_resumption(run, mailer_kills[-1])))
                else:
                    restarts.append(await run.stack.kill(service, run.http))
        await asyncio.gather(*watching)
        return len(restarts)

    try:
        async with launched(
            tmp_path / "data", NATS_URL=nats_url, DATABASE_URL=database_url,
            ANSHIN_SMTP_PORT=str(sink.port),
        ) as stack:  # fmt: skip
            # A mailer killed mid-send leaves its claim to the sweep once its lease (8 s) runs out.
            found, faults = await surge("SIGKILL each service", scale, stack, sink,
                                        database_url, fault, timeout=1200)  # fmt: skip
            kills = dict(stack.kills)
    finally:
        await sink.stop()
    killed = ", ".join(f"{s} x{n}" for s, n in kills.items() if n)
    by_kill = duplicates_by_kill(mailer_kills, sink)
    # The duplicates of each mailer kill are its own row: the scenario keeps the rest.
    rest = msgspec.structs.replace(found, duplicates=found.duplicates - sum(by_kill))
    report(f"SIGKILL {killed} ({scale})", rest, faults,
           f"back ready in {max(restarts):.1f} s at most; {sum(by_kill)} duplicates in the"
           " mailer kill rows", explained=found.explained)  # fmt: skip
    for n, (kill, twice) in enumerate(zip(mailer_kills, by_kill, strict=True), 1):
        ok = twice <= CONNECTIONS and 0 <= kill.resumed < RESUME_SECONDS
        record(
            f"mailer SIGKILL {n} of {len(mailer_kills)} mid-send ({scale})",
            load=len(kill.claimed),
            faults=1,
            survived=int(ok),
            duplicates=twice,
            seconds=kill.resumed,
            note=f"{len(kill.claimed)} mails in flight; {twice} sent twice (goal: at most"
            f" {CONNECTIONS}, the SMTP connections); its claim's mail resumed after"
            f" {kill.resumed:.1f} s (goal: {RESUME_SECONDS} s), new mail after"
            f" {kill.first_mail:.1f} s",
        )
    assert_whole(found)
    # A second copy only where the mailer died between SMTP's 250 and the ledger's record.
    assert found.duplicates == found.explained, found
    if not kills["mailer"]:
        assert found.duplicates == 0, found
    for kill, twice in zip(mailer_kills, by_kill, strict=True):
        assert twice <= CONNECTIONS, (twice, kill)
        assert 0 <= kill.resumed < RESUME_SECONDS, kill


@pytest.mark.parametrize("scale", [FAST, FULL])
async def test_a_surge_survives_nats_restarting(
    scale: str, tmp_path: Path, database_url: str
) -> None:
    nats = NatsServer(tmp_path / "nats").start()
    sink = CountingSink()
    await sink.start()
    times = {"fast": [0.3], "full": [0.2, 0.5, 0.8]}[scale]

    async def fault(run: Surge) -> int:
        for share in times:
            await run.until(share)
            assert nats.process is not None
            os.kill(nats.process.pid, signal.SIGKILL)
            nats.process.wait()
            await asyncio.sleep(2)
            await asyncio.to_thread(nats.start)
        return len(times)

    try:
        async with launched(
            tmp_path / "data", NATS_URL=nats.url, DATABASE_URL=database_url,
            ANSHIN_SMTP_PORT=str(sink.port),
        ) as stack:  # fmt: skip
            found, faults = await surge("NATS restarted", scale, stack, sink, database_url, fault)
    finally:
        await sink.stop()
        nats.stop()
    report(f"NATS SIGKILLed and restarted x{faults} ({scale})", found, faults)
    assert_whole(found)
    assert found.duplicates == 0, found


@pytest.mark.parametrize("scale", [FULL])
async def test_a_surge_survives_losing_a_node_of_a_nats_cluster(
    scale: str, tmp_path: Path, database_url: str
) -> None:
    cluster = await asyncio.to_thread(NatsCluster(tmp_path / "cluster").start)
    sink = CountingSink()
    await sink.start()
    lost: list[str] = []

    async def fault(run: Surge) -> int:
        await run.until(0.3)
        # The node that leads the deliveries stream: the worst one to lose.
        from shared import bus

        nc = await bus.connect(cluster.url, "fault")
        try:
            info = await nc.jetstream().stream_info("DELIVERIES")
            leader = info.cluster.leader if info.cluster else None
        finally:
            await nc.close()
        node = next((n for n in cluster.nodes if n.name == leader), cluster.nodes[0])
        cluster.kill(node)
        lost.append(node.name)
        return 1

    try:
        async with launched(
            tmp_path / "data", NATS_URL=cluster.url, DATABASE_URL=database_url,
            ANSHIN_SMTP_PORT=str(sink.port), ANSHIN_STREAM_REPLICAS="3",
        ) as stack:  # fmt: skip
            found, faults = await surge("cluster node lost", scale, stack, sink, database_url,
                                        fault)  # fmt: skip
    finally:
        await sink.stop()
        cluster.stop()
    report(f"NATS cluster of 3, R3, node {lost} SIGKILLed ({scale})", found, faults,
           "the node leading DELIVERIES")  # fmt: skip
    assert_whole(found)
    assert found.duplicates == 0, found


@pytest.mark.parametrize("scale", [FAST, FULL])
async def test_a_surge_survives_postgres_restarting(
    scale: str, tmp_path: Path, nats_url: str
) -> None:
    from deploy.servers import Postgres
    from tests.support.pg import postgres_home

    times = {"fast": [0.3], "full": [0.2, 0.5, 0.8]}[scale]
    sink = CountingSink()
    await sink.start()
    with postgres_home() as home:
        pg = await asyncio.to_thread(Postgres(home / "pg", durable=False).start)
        database_url = pg.create_database("anshin")

        async def fault(run: Surge) -> int:
            nonlocal pg
            for share in times:
                await run.until(share)
                await asyncio.to_thread(pg.stop)
                await asyncio.sleep(2)
                pg = await asyncio.to_thread(Postgres(home / "pg", durable=False).start)
            return len(times)

        try:
            async with launched(
                tmp_path / "data", NATS_URL=nats_url, DATABASE_URL=database_url,
                ANSHIN_SMTP_PORT=str(sink.port),
            ) as stack:  # fmt: skip
                found, faults = await surge("PostgreSQL restarted", scale, stack, sink,
                                            database_url, fault)  # fmt: skip
        finally:
            await sink.stop()
            await asyncio.to_thread(pg.stop)
    report(f"PostgreSQL restarted x{faults} ({scale})", found, faults)
    assert_whole(found)
    assert found.duplicates == 0, found
