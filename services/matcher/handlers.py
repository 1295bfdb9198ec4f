"""Matcher handlers for advisories and disasters: `handler(message, *, pool, clock, settings)`."""

from __future__ import annotations

import logging

import asyncpg

from services.matcher import fanout, rules, store
from shared import messages as m
from shared.clock import Clock
from shared.config import Settings
from shared.db import unit_of_work

log = logging.getLogger(__name__)


class RuleNotYetKnown(Exception):
    """A disaster names an advisory whose publication the matcher has not read yet: retry."""


async def on_advisory(
    event: m.AdvisoryEvent, *, pool: asyncpg.Pool, clock: Clock, settings: Settings
) -> None:
    """Keep the rule of a published advisory and fan out its audience; drop a withdrawn one."""
    now = clock.now()
    async with unit_of_work(pool) as conn:
        await store.lock_rules(conn)
        match event:
            case m.AdvisoryPublished():
                if not await store.save_rule(conn, event):
                    return
                if not rules.of(event.rule).at_publication:
                    return  # a standing playbook: it waits for a declared disaster
                started = await fanout.start(
                    conn,
                    job_id=f"publication:{event.advisory_id}:v{event.version}",
                    advisory_id=event.advisory_id,
                    shards=settings.matcher_fanout_shards,
                    requested_at=now,
                )
                if started:
                    log.info(
                        "advisory fan-out started",
                        extra={"advisory_id": event.advisory_id, "kind": event.rule.kind},
                    )
            case m.AdvisoryWithdrawn():
                await store.withdraw_rule(conn, event.advisory_id, event.withdrawn_at)


def job_id(event: m.DisasterDeclared, advisory_id: str) -> str:
    """A disaster's job per playbook and revision; the first keeps the id of before."""
    first = f"disaster:{event.event_id}:{advisory_id}"
    return first if event.revision <= 1 else f"{first}:r{event.revision}"


async def on_disaster(
    event: m.DisasterEvent, *, pool: asyncpg.Pool, clock: Clock, settings: Settings
) -> None:
    """Fan out every named disaster playbook over the declared area, on each revision again.

    A revision (a correction, a larger area) is a job of its own over the whole new area;
    the matches are keyed by the event, so only customers newly inside are requested.
    """
    now = clock.now()
    params = fanout.DisasterParams(
        areas=event.areas,
        occurred_at=event.occurred_at,
        places=event.places,
        magnitude=event.magnitude,
        hazard=event.hazard,
    )
    async with unit_of_work(pool) as conn:
        if event.cancelled:
            # Shards not yet run request nothing; the mailer cancels what waits.
            await store.cancel_event(conn, event.event_id, now)
            log.info("disaster cancelled", extra={"event_id": event.event_id})
            return
        if await store.event_cancelled(conn, event.event_id):
            return  # a revision arriving after the cancellation
        await store.record_event(conn, event.event_id, event.hazard, now)
        known = await store.known_rules(conn, event.advisory_ids)
        for advisory_id in event.advisory_ids:
            kind = known.get(advisory_id)
            if kind == "disaster":
                await fanout.start(
                    conn,
                    job_id=job_id(event, advisory_id),
                    advisory_id=advisory_id,
                    shards=settings.matcher_fanout_shards,
                    requested_at=now,
                    event_id=event.event_id,
                    params=params,
                )
            elif kind is not None:
                log.info(
                    "disaster names an advisory that is not a live playbook",
                    extra={"advisory_id": advisory_id, "kind": kind},
                )
    missing = [a for a in event.advisory_ids if a not in known]
    if missing:
        # The jobs above are recorded; the redelivery starts only the missing ones.
        raise RuleNotYetKnown(f"event {event.event_id}: advisories not yet published: {missing}")
