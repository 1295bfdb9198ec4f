"""One claim: lock due deliveries, apply the policy and the send rates, mark the mails in flight."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import msgspec

from services.mailer import policy
from services.mailer.store import ledger, rates
from services.mailer.store.ledger import Key
from shared.db import unit_of_work
from shared.mail.render import Delivery, mail_id, safety_page
from shared.messages import Priority
from shared.waiting import explain

_json = msgspec.json.Decoder()
log = logging.getLogger(__name__)

# A live sender renews its claims' leases every quarter of it and sweeps as often: a dead
# replica's claim is taken up again within a lease and a quarter (10 s), while a database
# away for up to three quarters of a lease (6 s, a restart) still finds the claims renewed.
LEASE = timedelta(seconds=8)

# Whether a mail to an address of this priority may go now: None, or when to try again.
Gate = Callable[[str, int, datetime], datetime | None]


class Config(msgspec.Struct, frozen=True, kw_only=True):
    """What a claim needs to know from the settings."""

    limit: int = 200
    rules: policy.Rules = policy.Rules()
    overall_rate: float = 0.0
    domain_rate: float = 0.0
    lease: timedelta = LEASE
    sender_domain: str = "anshin.invalid"
    public_url: str = ""


class Mail(msgspec.Struct, kw_only=True):
    """One mail to send: a single advisory, or a digest of several, to one address."""

    message_id: str
    email: str
    attempts: int
    deliveries: list[Delivery]
    priority: int = 0

    @property
    def keys(self) -> list[Key]:
        """The ledger rows this mail carries."""
        return [(d.advisory_id, d.event_id, d.customer_id) for d in self.deliveries]


class Claim(msgspec.Struct, kw_only=True):
    """The mails of one claim, the token they are held under, and whether the overall rate
    held some back."""

    mails: list[Mail]
    rows: int
    rate_limited: bool = False
    token: uuid.UUID = msgspec.field(default_factory=uuid.uuid4)
    at: datetime | None = None  # the claim's time


def domain(address: str) -> str:
    """The recipient domain that a per-domain rate applies to."""
    return address.rpartition("@")[2].lower()


def _delivery(row: asyncpg.Record, cfg: Config, cache: dict[str, Any]) -> Delivery:
    # Many rows of one claim share an advisory: decode its texts once.
    if row["advisory_id"] not in cache:
        cache[row["advisory_id"]] = (_json.decode(row["title"]), _json.decode(row["body"]))
    title, body = cache[row["advisory_id"]]
    return Delivery(
        advisory_id=row["advisory_id"],
        customer_id=row["customer_id"],
        email=row["email"],
        name=row["name"],
        locale=row["locale"],
        agency_name=row["agency_name"],
        title=title,
        body=body,
        source_url=row["source_url"],
        purchases=_json.decode(row["purchases"]),
        kind=row["kind"],
        reason=row["reason"],
        page_url=safety_page(cfg.public_url, row["advisory_id"]),
        event_id=row["event_id"],
        timezone=row["timezone"] or "",
        notice=row["notice"],
    )


def _key(row: asyncpg.Record) -> Key:
    return row["advisory_id"], row["event_id"], row["customer_id"]


def _sent_to(row: asyncpg.Record) -> tuple[str, str, str]:
    """What one address may receive once: an advisory (per declared disaster, for playbooks)."""
    return row["advisory_id"], row["event_id"], row["email"]


def _declined(row: asyncpg.Record) -> bool:
    return row["off"] is not None and row["kind"] in row["off"]


def _expired(row: asyncpg.Record, now: datetime) -> bool:
    return row["expires_at"] is not None and row["expires_at"] <= now


async def claim(
    pool: asyncpg.Pool,
    now: datetime,
    cfg: Config,
    gate: Gate | None = None,
    *,
    limit: int | None = None,
    lowest: int = 0,
) -> Claim:
    """Claim the mails that may go out now; everything else waits in the ledger.

    `gate` says which recipients' paths are paused; `limit` and `lowest` narrow a claim that
    probes a paused relay to one mail (urgent only, while the pause lasts).
    """
    token = uuid.uuid4()
    async with unit_of_work(pool) as conn:
        rows = await ledger.due(conn, now, cfg.limit if limit is None else limit, lowest)
        # Its advisory is over: not sent, whatever held it back.
        await ledger.set_state(conn, [_key(r) for r in rows if _expired(r, now)], "expired")
        live = [r for r in rows if not r["suppressed"] and not _expired(r, now)]
        # The customer turned this family of advice off on the preference page.
        await ledger.decline(conn, [_key(r) for r in live if _declined(r)])
        live = [r for r in live if not _declined(r)]
        await ledger.lock_addresses(conn, [r["email"] for r in live])
        # One person may shop under two customer ids: one advisory (of one declared
        # disaster, for a playbook) reaches an address once.
        seen = await ledger.mailed(
            conn, [r["advisory_id"] for r in live], [r["email"] for r in live]
        )
        unwanted = [_key(r) for r in rows if r["suppressed"] and not _expired(r, now)]
        kept = []
        for r in live:
            if _sent_to(r) in seen:
                unwanted.append(_key(r))
            else:
                seen.add(_sent_to(r))
                kept.append(r)
        live = kept
        await ledger.set_state(conn, unwanted, "suppressed")
        routine = [r["email"] for r in live if not policy.urgent(r["priority"])]
        since = now - cfg.rules.period
        sent = await ledger.routine_sent(conn, routine, since, Priority.RECALL)
        due = [
            policy.Due(r["advisory_id"], r["email"], r["priority"], r["timezone"], r["event_id"])
            for r in live
        ]
        plan = policy.plan(due, sent, now, cfg.rules)
        await ledger.wait(
            conn,
            [_key(live[i]) for i, _, _ in plan.deferred],
            [until for _, until, _ in plan.deferred],
            [hold for _, _, hold in plan.deferred],
        )
        for wait in policy.waits(due, plan):
            log.info(
                explain(wait, now), extra={"reason": wait.reason, "until": wait.until.isoformat()}
            )
        domains = [domain(live[mail[0]]["email"]) for mail in plan.mails]
        buckets = await rates.lock(conn, domains, cfg.overall_rate, cfg.domain_rate)
        granted: list[list[int]] = []
        postponed: list[tuple[Key, datetime]] = []
        paused: list[tuple[Key, datetime]] = []
        held_back = 0  # mails waiting for their path, not for the rate
        waiting: dict[str, int] = {}
        for mail, dom in zip(plan.mails, domains, strict=True):
            priority = max(live[i]["priority"] for i in mail)
            held = gate(live[mail[0]]["email"], priority, now) if gate else None
            if held is not None:  # its domain's path is paused: wait, spend no token
                paused += [(_key(live[i]), held) for i in mail]
                held_back += 1
            elif buckets.allow(dom):
                granted.append(mail)
            elif buckets.exhausted():
                break  # the rest stays due and goes in a later claim
            else:
                # Spread a busy domain's mail over the coming seconds, so that the next
                # claims reach other domains instead of the same blocked rows.
                waiting[dom] = waiting.get(dom, 0) + 1
                later = now + timedelta(seconds=waiting[dom] / cfg.domain_rate)
                postponed += [(_key(live[i]), later) for i in mail]
        await rates.save(conn, buckets)
        await ledger.wait(
            conn, [k for k, _ in postponed], [t for _, t in postponed], [None] * len(postponed)
        )
        await ledger.wait(
            conn, [k for k, _ in paused], [t for _, t in paused], ["paused"] * len(paused)
        )
        cache: dict[str, Any] = {}
        mails = []
        for mail in granted:
            deliveries = [_delivery(live[i], cfg, cache) for i in mail]
            mails.append(
                Mail(
                    message_id=mail_id(deliveries, cfg.sender_domain),
                    email=deliveries[0].email,
                    attempts=max(live[i]["attempts"] for i in mail) + 1,
                    deliveries=deliveries,
                    priority=max(live[i]["priority"] for i in mail),
                )
            )
        await ledger.start_sending(
            conn,
            [k for m in mails for k in m.keys],
            [m.message_id for m in mails for _ in m.deliveries],
            now,
            cfg.lease,
            token,
        )
    rate_limited = len(granted) + held_back < len(plan.mails)
    return Claim(mails=mails, rows=len(rows), rate_limited=rate_limited, token=token, at=now)
