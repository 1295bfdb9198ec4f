"""Amendments: a draft changed under embargo, or a published advisory corrected.

Each amendment is a new row of `advisory_versions`, made from the latest one. A correction
without an embargo ahead goes public at once: the advisory's row takes its content, with
`corrected_at`, and `advisories.published` of the new version goes out through the outbox in
the same transaction (the matcher mails those newly inside a widened rule, the mailer sends
earlier recipients a correction). One with an embargo ahead waits, unseen (`pending_until`),
and `publish_due` makes it public then, as the keeper does a first version.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import asyncpg
import msgspec

from services.advisory.lifecycle import embargo
from services.advisory.lifecycle.embargo import Amendment
from services.advisory.lifecycle.publication import published_event
from services.advisory.lifecycle.store import (
    COLUMNS,
    FROM,
    add_version,
    advisory_of,
    content_columns,
)
from services.advisory.lifecycle.submission import AdvisoryIn
from shared.bus import channels
from shared.db import Conn
from shared.errors import Invalid, NotFound, field_error
from shared.outbox import enqueue_on

Change = Callable[[AdvisoryIn, Amendment], AdvisoryIn]
NOTHING = "the amendment changes nothing of the advisory as it stands"


async def amend_advisory(
    pool: asyncpg.Pool, advisory_id: str, change: Change, now: datetime
) -> tuple[int, Amendment]:
    """Apply `change` to the latest version and store the result as a new one; return it and
    what it was.

    The row lock keeps the embargo keeper (SKIP LOCKED) off the advisory meanwhile, so an
    amendment and a publication never interleave.
    """
    async with pool.acquire() as conn, conn.transaction():
        row = await conn.fetchrow(
            "SELECT state, embargo_until, version, pending_version FROM advisories"
            " WHERE id = $1 FOR UPDATE",
            advisory_id,
        )
        if row is None:
            raise NotFound("no such advisory")
        what = embargo.check_amendable(row["state"], row["embargo_until"], now)
        # A correction builds on the one still waiting for its embargo, if any.
        latest: int = row["pending_version"] or row["version"]
        current = await _content(conn, advisory_id, latest)
        amended = change(current, what)
        if what == "correction" and amended == current:
            # A form sent twice would otherwise mail every recipient a second correction.
            raise Invalid("nothing to correct", [field_error("$", NOTHING)])
        version = latest + 1
        await add_version(conn, advisory_id, version, amended, now)
        if what == "draft":
            await _set_content(conn, advisory_id, version, amended, keep_embargo=False)
        elif embargo.correction_waits(amended.embargo_until, now):
            await conn.execute(
                "UPDATE advisories SET pending_version = $2, pending_until = $3 WHERE id = $1",
                advisory_id,
                version,
                amended.embargo_until,
            )
        else:
            await _go_public(conn, advisory_id, version, amended, now)
    return version, what


async def publish_due(pool: asyncpg.Pool, now: datetime, limit: int = 100) -> list[str]:
    """Make public every correction whose embargo has passed; return the advisories' ids.

    As `publication.publish_due`: one transaction, SKIP LOCKED, the event in the outbox.
    """
    async with pool.acquire() as conn, conn.transaction():
        rows = await conn.fetch(
            f"SELECT a.id, a.pending_version FROM advisories a"
            f" WHERE {embargo.correction_due_sql()}"
            " ORDER BY a.pending_until LIMIT $2 FOR UPDATE SKIP LOCKED",
            now,
            limit,
        )
        for row in rows:
            version = row["pending_version"]
            amended = await _content(conn, row["id"], version)
            await _go_public(conn, row["id"], version, amended, now)
    return [r["id"] for r in rows]


async def _content(conn: Conn, advisory_id: str, version: int) -> AdvisoryIn:
    content = await conn.fetchval(
        "SELECT content FROM advisory_versions WHERE advisory_id = $1 AND version = $2",
        advisory_id,
        version,
    )
    return msgspec.json.decode(content, type=AdvisoryIn)


async def _set_content(
    conn: Conn, advisory_id: str, version: int, amended: AdvisoryIn, *, keep_embargo: bool
) -> None:
    """The advisory's row takes a version's content (a published one keeps the embargo it
    went public at: its first publication's time)."""
    columns = content_columns(amended)
    await conn.execute(
        "UPDATE advisories SET version = $2, kind = $3, rule = $4::jsonb,"
        " title = $5::jsonb, body = $6::jsonb, source_url = $7,"
        " embargo_until = CASE WHEN $15 THEN embargo_until ELSE $8 END,"
        " expires_at = $9, concern_categories = $10, concern_skus = $11,"
        " concern_gtins = $12, concern_while_declared = $13, deliver_by = $14"
        " WHERE id = $1",
        advisory_id,
        version,
        *columns,
        keep_embargo,
    )


async def _go_public(
    conn: Conn, advisory_id: str, version: int, amended: AdvisoryIn, now: datetime
) -> None:
    """A correction goes public: the row takes it, and its event joins the outbox."""
    await _set_content(conn, advisory_id, version, amended, keep_embargo=True)
    await conn.execute(
        "UPDATE advisories SET corrected_at = $2, pending_version = NULL, pending_until = NULL"
        " WHERE id = $1",
        advisory_id,
        now,
    )
    row = await conn.fetchrow(f"SELECT {COLUMNS} {FROM} WHERE a.id = $1", advisory_id)
    assert row is not None, "the caller holds the row locked"
    advisory = advisory_of(row)
    assert advisory.published_at is not None, "only a published advisory is corrected"
    event = published_event(advisory, advisory.published_at)
    await enqueue_on(
        conn, channels.ADVISORY_PUBLISHED, msgspec.structs.replace(event, corrected_at=now)
    )
