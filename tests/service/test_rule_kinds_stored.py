"""Rules stored flat before the kinds became types: read back from jsonb, and their concerns."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import msgspec

from services.advisory.public import store as public
from services.matcher import store
from shared import db
from shared import messages as m
from shared.clock import Clock
from shared.config import Settings

FLAT = (Path(__file__).parent.parent / "fixtures" / "rules" / "flat_rules.jsonl").read_bytes()
LINES = [line.decode() for line in FLAT.splitlines()]
ROWS = [(f"adv-{i}", msgspec.json.decode(line)["kind"], line) for i, line in enumerate(LINES)]
EXPECTED = [
    m.ShortTerm(categories=["power_bank"], window_days=30),
    m.LongTerm(categories=["heater", "fan"], after_years=10),
    m.Combination(groups=[["honey"], ["baby_food"]], window_days=14),
    m.Disaster(categories=["generator"], hazards=["earthquake"], countries=["JP"]),
    m.Recall(skus=["HT-9"], gtins=["04901234567894"]),
    m.ShortTerm(categories=["power_bank"]),
]


async def test_the_matcher_reads_flat_rules_kept_in_jsonb(settings: Settings, clock: Clock) -> None:
    pool = await db.create_pool(settings.database_url, "matcher")
    try:
        await db.migrate(pool, "matcher", "services.matcher")
        async with pool.acquire() as conn:
            # As the code of before saved them (jsonb reorders the keys: kind is not first).
            await conn.executemany(
                "INSERT INTO rules (advisory_id, version, kind, rule, published_at)"
                " VALUES ($1, 1, $2, $3::jsonb, $4)",
                [(*row, clock.now()) for row in ROWS],
            )
            live = await store.active_rules(conn, clock.now())
            one = await store.live_rule(conn, "adv-4", clock.now())
    finally:
        await pool.close()
    assert sorted(live, key=lambda r: r[0]) == [
        (f"adv-{i}", rule.kind, rule) for i, rule in enumerate(EXPECTED)
    ]
    assert one == m.Recall(skus=["HT-9"], gtins=["04901234567894"])


async def test_advisories_kept_flat_get_their_concerns(settings: Settings, clock: Clock) -> None:
    """Migration 007 records what the advisories kept concern, as each kind's `concerns()`."""
    pool = await db.create_pool(settings.database_url, "advisory")
    now = clock.now()
    try:
        async with pool.acquire() as conn:
            await conn.execute(
                "CREATE SCHEMA IF NOT EXISTS advisory; CREATE TABLE advisory.schema_migrations ("
                " version int PRIMARY KEY, name text NOT NULL,"
                " applied_at timestamptz NOT NULL DEFAULT now())"
            )
            for version, name, sql in db.migrations_of("services.advisory"):
                if version <= 5:
                    await conn.execute(sql)
                    await conn.execute(
                        "INSERT INTO advisory.schema_migrations VALUES ($1, $2)", version, name
                    )
            await conn.execute(
                "INSERT INTO agencies (id, name, key_hash) VALUES ('ag', 'Institute', 'h')"
            )
            await conn.executemany(
                "INSERT INTO advisories (id, agency_id, state, kind, rule, title, body,"
                " embargo_until, created_at, published_at) VALUES ($1, 'ag', 'published', $2,"
                ' $3::jsonb, \'{"en": "t"}\', \'{"en": "b"}\', $4, $4, $4)',
                [(*row, now - timedelta(hours=1)) for row in ROWS],
            )
        await db.migrate(pool, "advisory", "services.advisory")
        async with pool.acquire() as conn:
            rows = await conn.fetch(
                "SELECT concern_categories, concern_skus, concern_gtins, concern_while_declared"
                " FROM advisories ORDER BY id"
            )
        heater = await public.for_product(pool, "X", None, ["heater"], now)
        recalled = await public.for_product(pool, "Y", "04901234567894", [], now)
        generator = await public.for_product(pool, "Z", None, ["generator", "honey"], now)
    finally:
        await pool.close()
    got = [m.Concerns(categories=r[0], skus=r[1], gtins=r[2], while_declared=r[3]) for r in rows]
    assert got == [rule.concerns() for rule in EXPECTED]
    assert [a.id for a in heater] == ["adv-1"]
    assert [a.id for a in recalled] == ["adv-4"]
    # No disaster declared: the playbook concerns no product page yet; the combination does.
    assert [a.id for a in generator] == ["adv-2"]
