"""The matcher's fan-out: two replicas on one surge, a replica killed mid-shard, a withdrawal."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import asyncpg
import msgspec
import nats.errors
import pytest
from nats.js.api import RawStreamMsg

from deploy.servers import free_port
from services.matcher import fanout, handlers, rules, scheduler, store
from shared import bus
from shared import messages as m
from shared.clock import Clock
from shared.config import Settings
from shared.outbox import OutboxRelay
from tests.service.test_cli_dead import anshin
from tests.service.test_matcher_kit import (
    JP_17,
    TOKYO,
    Shop,
    matcher,
    matcher_pool,
    placed,
    published,
    shop,
    small,
)
from tests.support.advisory import eventually
from tests.support.replicas import Replica

DAY = timedelta(days=1)
GEN = ["portable_generator"]
PLAYBOOK = m.Disaster(categories=GEN, hazards=["earthquake"])


def _surge(clock: Clock, inside: int, outside: int) -> tuple[list[m.OrderPlaced], list[str]]:
    now = clock.now()
    orders = [placed(f"in-{n}", now - (n % 90) * DAY, GEN, where=JP_17) for n in range(inside)]
    orders += [placed(f"out-{n}", now - DAY, GEN, where=TOKYO) for n in range(outside)]
    return orders, sorted(f"in-{n}" for n in range(inside))


def _quake(clock: Clock, advisory_id: str) -> m.DisasterDeclared:
    return m.DisasterDeclared(
        event_id="eq-1",
        hazard="earthquake",
        title="Noto",
        occurred_at=clock.now(),
        areas=[m.Regions(codes=["JP-17"])],
        countries=["JP"],
        advisory_ids=[advisory_id],
    )


async def test_two_replicas_share_one_surge(settings: Settings, clock: Clock) -> None:
    settings = small(settings, matcher_fanout_shards=8)
    orders, expected = _surge(clock, inside=1200, outside=300)
    async with (
        shop(settings) as s,
        matcher(settings, clock),
        matcher(settings, clock, free_port()),
    ):
        await s.send_many(orders)
        await s.idle(clock)
        await s.send(published("adv-quake", PLAYBOOK, clock.now()))
        await s.send(_quake(clock, "adv-quake"))
        found = await s.wait_for("adv-quake", len(expected))
        await s.idle(clock)
        found = await s.requested("adv-quake")
        assert sorted(found) == expected  # no duplicate, no loss
        conn = await asyncpg.connect(settings.database_url)
        try:
            replicas = await conn.fetchval(
                "SELECT count(DISTINCT replica) FROM matcher.fanout_done"
            )
        finally:
            await conn.close()
        assert replicas == 2  # every replica took part


async def test_a_replica_killed_mid_shard_loses_nothing(
    settings: Settings, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A short ack wait, so the shard of the dead replica comes back within the test.
    spec = msgspec.structs.replace(bus.CONSUMERS["matcher-fanout"], ack_wait_s=2.0)
    monkeypatch.setitem(bus.CONSUMERS, "matcher-fanout", spec)
    settings = small(settings)
    orders, expected = _surge(clock, inside=300, outside=50)
    async with shop(settings) as s:
        async with matcher(settings, clock):
            await s.send_many(orders)
            await s.send(published("adv-quake", PLAYBOOK, clock.now()))
            await s.idle(clock)
        # No replica runs: the disaster's shards are put on the bus as a replica would.
        pool = await matcher_pool(settings)
        try:
            await handlers.on_disaster(
                _quake(clock, "adv-quake"), pool=pool, clock=clock, settings=settings
            )
            assert await OutboxRelay(pool, s.nc, "matcher").relay_once() == 4
        finally:
            await pool.close()
        # A replica takes a shard, starts on it, and dies before commit and ack.
        sub = await s.nc.jetstream().pull_subscribe_bind(durable="matcher-fanout", stream="FANOUT")
        [taken] = await sub.fetch(1, timeout=5)
        shard = m.decoder(m.FanoutShard).decode(taken.data)
        dying = await asyncpg.connect(settings.database_url)
        await dying.execute("BEGIN")
        await dying.execute(
            "INSERT INTO matcher.fanout_done (job_id, shard, replica) VALUES ($1, $2, 'dying')",
            shard.job_id,
            shard.shard,
        )
        dying.terminate()
        await sub.unsubscribe()
        async with matcher(settings, clock):
            await s.wait_for("adv-quake", len(expected))
            await s.idle(clock)
        assert sorted(await s.requested("adv-quake")) == expected


async def test_withdrawal_mid_fanout_stops_the_shards_left(
    settings: Settings, clock: Clock
) -> None:
    settings = small(settings)
    now = clock.now()
    async with shop(settings) as s:
        async with matcher(settings, clock):
            await s.send_many([placed(f"c-{n}", now - DAY, ["power_bank"]) for n in range(200)])
            await s.idle(clock)
        pool = await matcher_pool(settings)
        try:
            rule = m.ShortTerm(categories=["power_bank"])
            deps: dict[str, Any] = {"pool": pool, "clock": clock, "settings": settings}
            await handlers.on_advisory(published("adv-pb", rule, now), **deps)
            rows = await pool.fetch(
                "SELECT payload FROM outbox WHERE subject = 'matcher.fanout' ORDER BY id"
            )
            shards = [m.decoder(m.FanoutShard).decode(r["payload"]) for r in rows]
            assert [x.shard for x in shards] == [0, 1, 2, 3]
            # Two replicas on the same shard (a redelivery): it is evaluated once.
            await asyncio.gather(
                *(fanout.on_shard(shards[0], replica=r, **deps) for r in ("r1", "r2"))
            )
            await fanout.on_shard(shards[1], replica="r1", **deps)
            await handlers.on_advisory(
                m.AdvisoryWithdrawn(advisory_id="adv-pb", withdrawn_at=clock.now()),
                **deps,
            )
            for shard in shards[2:]:
                await fanout.on_shard(shard, replica="r2", **deps)
            owned = await pool.fetch("SELECT DISTINCT customer_id, bucket FROM purchases")
            matched = await pool.fetch("SELECT customer_id FROM matches")
            batches = await pool.fetch(
                "SELECT payload FROM outbox WHERE subject = 'deliveries.requested'"
            )
        finally:
            await pool.close()
        # The bucket PostgreSQL stored is the one Python computes.
        assert all(rules.bucket_of(r["customer_id"]) == r["bucket"] for r in owned)
        lo, hi = rules.bucket_range(0, 4)[0], rules.bucket_range(1, 4)[1]
        expected = sorted(r["customer_id"] for r in owned if lo <= r["bucket"] < hi)
        assert 0 < len(expected) < 200
        assert sorted(r["customer_id"] for r in matched) == expected
        requested = [
            r.customer_id
            for b in batches
            for r in m.decoder(m.DeliveryBatch).decode(b["payload"]).recipients
        ]
        assert sorted(requested) == expected


async def test_two_schedulers_share_the_due_entries_once(settings: Settings, clock: Clock) -> None:
    settings = small(settings)
    now = clock.now()
    heater = ["heater"]
    rule = m.LongTerm(categories=heater, after_years=10)
    customers = sorted(f"c-due-{n}" for n in range(300))
    async with shop(settings) as s:
        async with matcher(settings, clock):
            await s.send(
                m.OrderBatch(orders=[placed(c, now - 9 * 365 * DAY, heater) for c in customers])
            )
            await s.idle(clock)
            await s.send(published("adv-due", rule, now))
            await s.idle(clock)
        # No replica runs while a year passes; then two schedulers race over the due entries.
        clock.advance(370 * DAY)
        pools = [await matcher_pool(settings) for _ in range(2)]

        async def drain(pool: asyncpg.Pool) -> int:
            claimed = 0
            while taken := await scheduler.run_due(pool, clock, limit=25):
                claimed += taken
            return claimed

        try:
            shares = await asyncio.gather(*(drain(pool) for pool in pools))
        finally:
            for pool in pools:
                await pool.close()
        assert sum(shares) == len(customers) and min(shares) > 0, shares
        async with matcher(settings, clock):  # relays what the schedulers requested
            await s.idle(clock)
        assert sorted(await s.requested("adv-due")) == customers


async def test_a_long_batch_is_not_redelivered_while_it_is_worked_on(
    settings: Settings, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A short ack wait: a fetch whose handling outlasts it would be delivered again.
    spec = msgspec.structs.replace(bus.CONSUMERS["matcher-orders"], ack_wait_s=1.0)
    monkeypatch.setitem(bus.CONSUMERS, "matcher-orders", spec)
    settings = small(settings)
    now = clock.now()
    batches = [
        m.OrderBatch(orders=[placed(f"c-{b}-{n}", now - DAY, GEN) for n in range(50)])
        for b in range(3)
    ]
    async with shop(settings) as s, matcher(settings, clock):
        # A publication holds the rules lock: every order transaction waits behind it, here
        # for five times the ack wait.
        publication = await asyncpg.connect(settings.database_url)
        try:
            await publication.execute("BEGIN")
            await publication.execute("SELECT pg_advisory_xact_lock($1)", store.RULES_LOCK)
            for batch in batches:
                await s.send(batch)
            await asyncio.sleep(5 * spec.ack_wait_s)
            await publication.execute("COMMIT")
        finally:
            await publication.close()
        await s.idle(clock)
        info = await s.nc.jetstream().consumer_info("ORDERS", "matcher-orders")
        lines = await _count(settings, "SELECT count(*) FROM matcher.purchases")
    assert lines == 150
    # Each message was delivered once: the work in hand was kept alive, not handed out again.
    assert info.delivered.consumer_seq == len(batches), info.delivered


async def test_a_killed_replicas_shard_is_finished_by_another_within_15_s(
    settings: Settings, clock: Clock, tmp_path: Path
) -> None:
    settings = small(settings, matcher_fanout_shards=1)
    orders, expected = _surge(clock, inside=200, outside=20)
    job = "disaster:eq-1:adv-quake"
    async with shop(settings) as s:
        async with matcher(settings, clock):
            await s.send_many(orders)
            await s.send(published("adv-quake", PLAYBOOK, clock.now()))
            await s.idle(clock)
        # A withdrawal in progress holds the rule: a replica that took the shard and claimed
        # it waits there, mid-shard, until the test lets go.
        withdrawal = await asyncpg.connect(settings.database_url)
        replicas = [Replica("matcher", settings, tmp_path / "first.log")]
        try:
            await withdrawal.execute("BEGIN")
            await withdrawal.execute(
                "SELECT 1 FROM matcher.rules WHERE advisory_id = 'adv-quake' FOR UPDATE"
            )
            await replicas[0].ready()
            await s.send(_quake(clock, "adv-quake"))
            await eventually(lambda: _count(settings, _WAITING_ON_THE_RULE), timeout=30)
            replicas.append(Replica("matcher", settings, tmp_path / "second.log"))
            await replicas[1].ready()
            replicas[0].kill()
            killed = time.monotonic()
            await withdrawal.execute("ROLLBACK")
            done = await eventually(lambda: _shard_done(settings, job), timeout=60, every=0.2)
            resumed = time.monotonic() - killed
            await s.wait_for("adv-quake", len(expected))
        finally:
            await withdrawal.close()
            for replica in replicas:
                replica.stop()
        assert f":{replicas[0].pid}:" not in done and f":{replicas[1].pid}:" in done
        assert resumed < 15, resumed
        assert sorted(await s.requested("adv-quake")) == expected


async def test_a_shard_timing_out_to_max_deliver_is_dead_lettered_and_replays(
    settings: Settings, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = msgspec.structs.replace(bus.CONSUMERS["matcher-fanout"], ack_wait_s=1.0)
    monkeypatch.setitem(bus.CONSUMERS, "matcher-fanout", spec)
    settings = small(settings, matcher_fanout_shards=1)
    orders, expected = _surge(clock, inside=100, outside=10)
    async with shop(settings) as s:
        async with matcher(settings, clock):
            await s.send_many(orders)
            await s.send(published("adv-quake", PLAYBOOK, clock.now()))
            await s.idle(clock)
        pool = await matcher_pool(settings)
        try:
            await handlers.on_disaster(
                _quake(clock, "adv-quake"), pool=pool, clock=clock, settings=settings
            )
            assert await OutboxRelay(pool, s.nc, "matcher").relay_once() == 1
        finally:
            await pool.close()
        # Replica after replica takes the shard and dies before it is done: never acked, never
        # nak'd, every delivery times out until max_deliver (3) is spent.
        js = s.nc.jetstream()
        sub = await js.pull_subscribe_bind(durable="matcher-fanout", stream="FANOUT")
        for attempt in range(1, settings.max_deliver + 1):
            [taken] = await sub.fetch(1, timeout=5)
            assert taken.metadata.num_delivered == attempt
        with pytest.raises(nats.errors.TimeoutError):
            await sub.fetch(1, timeout=3 * spec.ack_wait_s)
        await sub.unsubscribe()
        async with matcher(settings, clock):
            dead = await eventually(lambda: _dead_letters(s, "matcher-fanout"), timeout=30)
            assert [d.headers["Anshin-Dead-Subject"] for d in dead] == ["matcher.fanout"]
            assert "3 deliveries" in dead[0].headers["Anshin-Dead-Reason"]
            # The work queue let go of it: the dead letter is its copy now.
            await eventually(lambda: _emptied(s, "FANOUT"))
            replayed = await anshin(settings, "dead", "replay", str(dead[0].seq))
            assert replayed.returncode == 0, replayed.stderr
            await s.wait_for("adv-quake", len(expected))
            await s.idle(clock)
        assert sorted(await s.requested("adv-quake")) == expected


_WAITING_ON_THE_RULE = (
    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
    " AND wait_event_type = 'Lock' AND query LIKE '%FROM rules WHERE advisory_id%FOR SHARE%'"
)


async def _count(settings: Settings, sql: str) -> int:
    conn = await asyncpg.connect(settings.database_url)
    try:
        return int(await conn.fetchval(sql))
    finally:
        await conn.close()


async def _shard_done(settings: Settings, job_id: str) -> str:
    conn = await asyncpg.connect(settings.database_url)
    try:
        replica = await conn.fetchval(
            "SELECT replica FROM matcher.fanout_done WHERE job_id = $1 AND shard = 0", job_id
        )
    finally:
        await conn.close()
    return str(replica or "")


async def _emptied(s: Shop, stream: str) -> bool:
    messages: int = (await s.nc.jetstream().stream_info(stream)).state.messages
    return messages == 0


async def _dead_letters(s: Shop, consumer: str) -> list[RawStreamMsg]:
    js = s.nc.jetstream()
    state = (await js.stream_info("DEAD")).state
    if not state.messages:
        return []
    found = [await js.get_msg("DEAD", seq) for seq in range(state.first_seq, state.last_seq + 1)]
    return [d for d in found if (d.headers or {}).get("Anshin-Dead-Consumer") == consumer]
