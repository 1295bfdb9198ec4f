"""Lines of products in no safety category: found by a recall, invisible to every other rule."""

from __future__ import annotations

from datetime import timedelta

import asyncpg

from services.matcher import rules, store
from services.matcher.rules import bucket_of
from shared import db
from shared import messages as m
from shared.bus import Subjects
from shared.clock import Clock
from shared.config import Settings
from tests.service.test_matcher_kit import JP_17, matcher, matcher_pool, placed, published, shop
from tests.service.test_matcher_kit import small as small_settings

DAY = timedelta(days=1)
KETTLE, KETTLE_GTIN = "KTL-1", "4901234500017"


async def _tables(settings: Settings) -> tuple[int, list[tuple[str, bool]]]:
    conn = await asyncpg.connect(settings.database_url)
    try:
        blank = await conn.fetchval("SELECT count(*) FROM matcher.purchases WHERE category = ''")
        rows = await conn.fetch(
            "SELECT customer_id, active FROM matcher.uncategorized_lines ORDER BY 1"
        )
    finally:
        await conn.close()
    return blank, [(r["customer_id"], r["active"]) for r in rows]


async def test_a_recall_finds_uncategorized_lines_and_no_category_rule_does(
    settings: Settings, clock: Clock
) -> None:
    settings = small_settings(settings)
    now = clock.now()
    pb = ["power_bank"]
    short = m.ShortTerm(categories=pb, window_days=30)
    quake = m.Disaster(categories=pb, hazards=["earthquake"])
    recall = m.Recall(skus=[KETTLE], gtins=[KETTLE_GTIN])
    async with shop(settings) as s, matcher(settings, clock):
        await s.send(placed("c-sku", now - 400 * DAY, [], sku=KETTLE, where=JP_17))
        await s.send(placed("c-gtin", now - 5 * DAY, [], sku="KTL-1-W", gtin=KETTLE_GTIN))
        returned = placed("c-returned", now - 5 * DAY, [], sku=KETTLE)
        await s.send(returned)
        await s.send(
            m.OrderReturned(
                channel="web", order_id=returned.order_id, customer_id="c-returned", at=now
            )
        )
        # A categorized line of the same product (another shop's catalog) is found as well.
        await s.send(placed("c-heater", now - 9 * DAY, ["heater"], sku=KETTLE))
        await s.send(placed("c-pb", now - 2 * DAY, pb, where=JP_17))
        await s.idle(clock)
        # The category history holds no uncategorized line; the recall's table does.
        assert await _tables(settings) == (
            0,
            [("c-gtin", True), ("c-returned", False), ("c-sku", True)],
        )

        await s.send(published("adv-short", short, now))
        await s.send(published("adv-quake", quake, now))
        await s.send(published("adv-recall", recall, now))
        assert sorted(await s.wait_for("adv-recall", 3)) == ["c-gtin", "c-heater", "c-sku"]
        assert await s.wait_for("adv-short", 1) == ["c-pb"]
        estimate = await s.nc.request(
            Subjects.MATCHER_AUDIENCE, m.encode(m.AudienceRequest(rule=recall)), timeout=5
        )
        assert m.decoder(m.AudienceEstimate).decode(estimate.data).customers == 3

        # At purchase time: an uncategorized kettle is recalled, never told about power banks.
        await s.send(placed("c-new", clock.now(), [], sku="X-9", gtin=KETTLE_GTIN))
        await s.send(placed("c-new", clock.now(), [], sku="PB-BAG"))
        await s.send(
            m.DisasterDeclared(
                event_id="eq-1",
                hazard="earthquake",
                title="Noto",
                occurred_at=clock.now(),
                areas=[m.Regions(codes=["JP-17", "JP-13"])],
                countries=["JP"],
                advisory_ids=["adv-quake"],
            )
        )
        await s.idle(clock)
        assert sorted(await s.requested("adv-recall")) == ["c-gtin", "c-heater", "c-new", "c-sku"]
        assert await s.requested("adv-short") == ["c-pb"]
        assert await s.requested("adv-quake") == ["c-pb"]
        [line] = [
            r.purchases[0]
            for b in await s.batches()
            for r in b.recipients
            if b.advisory_id == "adv-recall" and r.customer_id == "c-sku"
        ]
        assert (line.sku, line.title) == (KETTLE, f"{KETTLE} title")


async def test_migration_moves_blank_category_rows_out_of_the_history(
    settings: Settings, clock: Clock
) -> None:
    conn = await asyncpg.connect(settings.database_url)
    try:
        # A matcher schema as migration 003 left it, with a line kept under category ''.
        await conn.execute("CREATE SCHEMA matcher")
        await conn.execute(
            "CREATE TABLE matcher.schema_migrations (version int PRIMARY KEY, name text NOT NULL,"
            " applied_at timestamptz NOT NULL DEFAULT now())"
        )
        for version, name, sql in db.migrations_of("services.matcher"):
            if version < 4:
                async with conn.transaction():
                    await conn.execute("SET LOCAL search_path TO matcher, public")
                    await conn.execute(sql)
                    await conn.execute(
                        "INSERT INTO matcher.schema_migrations VALUES ($1, $2)", version, name
                    )
        await conn.executemany(
            "INSERT INTO matcher.purchases (customer_id, bucket, channel, order_id, line_no,"
            " category, sku, gtin, placed_at, country, active)"
            " VALUES ($1, matcher.customer_bucket($1), $2, $3, $4, $5, $6, $7, $8, 'JP', $9)",
            [
                ("c-1", "web", "o-1", 1, "", KETTLE, None, clock.now(), True),
                ("c-1", "web", "o-1", 2, "heater", "HT-1", None, clock.now(), True),
                ("c-2", "app", "o-2", 1, "", "X", KETTLE_GTIN, clock.now(), False),
            ],
        )
    finally:
        await conn.close()
    pool = await matcher_pool(settings)
    try:
        applied = await db.migrate(pool, "matcher", "services.matcher")
        assert applied[0] == "004_uncategorized_lines.sql"
        async with pool.acquire() as c:
            moved = await c.fetch(
                "SELECT customer_id, bucket, channel, order_id, line_no, sku, gtin, active"
                " FROM uncategorized_lines ORDER BY customer_id"
            )
            kept = await c.fetch("SELECT customer_id, category FROM purchases")
            rule = m.Recall(skus=[KETTLE, "HT-1"], gtins=[KETTLE_GTIN])
            reached = await store.count(c, rules.of(rule).audience(clock.now(), timedelta(0)))
            heaters = m.ShortTerm(categories=["heater"])
            short = await store.count(c, rules.of(heaters).audience(clock.now(), timedelta(0)))
    finally:
        await pool.close()
    assert [tuple(r) for r in moved] == [
        ("c-1", bucket_of("c-1"), "web", "o-1", 1, KETTLE, None, True),
        # Padded to GTIN-14 by the next migration, as every stored GTIN.
        ("c-2", bucket_of("c-2"), "app", "o-2", 1, "X", "0" + KETTLE_GTIN, False),
    ]
    assert [tuple(r) for r in kept] == [("c-1", "heater")]
    assert (reached, short) == (1, 1)  # c-2 returned the kettle
