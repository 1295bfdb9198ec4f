"""A large audience split into shards on matcher.fanout, so every replica shares the work.

A job is recorded once (its id names the publication or the disaster event) together with
its shard messages in the outbox. Each shard reads only its slice of customer buckets,
requests deliveries and records itself done in one transaction, acked after commit: a
replica killed mid-shard leaves the message unacked and another replica redoes the shard.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import asyncpg
import msgspec

from services.matcher import deliveries, metrics, rules, store
from shared import messages as m
from shared.bus import channels
from shared.clock import Clock
from shared.config import Settings
from shared.db import Conn, unit_of_work
from shared.outbox import enqueue_encoded

log = logging.getLogger(__name__)


# What a disaster job needs beyond its rule: where and when (kept as the job's params).
DisasterParams = rules.Declared
_params = msgspec.json.Decoder(DisasterParams)


async def start(
    conn: Conn,
    *,
    job_id: str,
    advisory_id: str,
    shards: int,
    requested_at: datetime,
    event_id: str = "",
    params: DisasterParams | None = None,
) -> bool:
    """Record a job and put its shards in the outbox; False when the job exists already."""
    encoded = msgspec.json.encode(params).decode() if params else "{}"
    if not await store.create_job(
        conn, job_id, advisory_id, event_id, shards, encoded, requested_at
    ):
        return False
    shard_messages = [
        m.FanoutShard(
            job_id=job_id,
            advisory_id=advisory_id,
            shard=k,
            shards=shards,
            requested_at=requested_at,
            event_id=event_id,
        )
        for k in range(shards)
    ]
    await enqueue_encoded(conn, [channels.FANOUT_SHARD.outgoing(s) for s in shard_messages])
    return True


async def on_shard(
    shard: m.FanoutShard, *, pool: asyncpg.Pool, clock: Clock, settings: Settings, replica: str
) -> None:
    """Evaluate one slice of a job's audience, once."""
    done: deliveries.Requested | None = None
    async with unit_of_work(pool) as conn:
        # The done row doubles as a claim: a second replica on the same shard waits here,
        # then finds it done.
        if not await store.claim_shard(conn, shard.job_id, shard.shard, replica):
            metrics.SHARDS.labels("duplicate").inc()
            return
        rule = await store.live_rule(conn, shard.advisory_id, clock.now())
        if rule is None:  # withdrawn (or expired) mid-way: what is left is not requested
            metrics.SHARDS.labels("withdrawn").inc()
            return
        if shard.event_id and await store.event_cancelled(conn, shard.event_id):
            metrics.SHARDS.labels("cancelled").inc()
            return
        lo, hi = rules.bucket_range(shard.shard, shard.shards)
        done = await _evaluate(conn, shard, rule, lo, hi, settings)
        await store.shard_done(conn, shard.job_id, shard.shard, done.recipients)
    metrics.count([done])
    metrics.SHARDS.labels("done").inc()


async def _evaluate(
    conn: Conn, shard: m.FanoutShard, rule: m.AdvisoryRule, lo: int, hi: int, settings: Settings
) -> deliveries.Requested:
    now, late = shard.requested_at, timedelta(days=settings.matcher_long_term_late_days)
    meaning = rules.of(rule)
    job = rules.Job(shard.advisory_id, shard.event_id, now)
    if shard.event_id:  # a declared disaster: its time and areas
        params = _params.decode(await store.job_params(conn, shard.job_id))
        w = meaning.audience(params.occurred_at, late, params)
        fold = timedelta(hours=settings.matcher_disaster_fold_hours)
        job = job._replace(hazard=params.hazard, fold=fold, shard=(shard.shard, shard.shards))
    else:
        w = meaning.audience(now, late)
    return await meaning.reach(conn, job, w.shard(lo, hi))
