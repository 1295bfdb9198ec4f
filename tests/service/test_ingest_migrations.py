"""Ingest's schema migrations keep the data that earlier versions stored."""

from __future__ import annotations

from services.ingest import store
from shared import db


async def test_lines_move_into_their_orders(database_url: str) -> None:
    pool = await db.create_pool(database_url, "ingest")
    try:
        async with pool.acquire() as conn:
            # The schema as version 2 left it, with one order of two lines and one without.
            await conn.execute(
                "CREATE SCHEMA IF NOT EXISTS ingest; CREATE TABLE ingest.schema_migrations ("
                " version int PRIMARY KEY, name text NOT NULL,"
                " applied_at timestamptz NOT NULL DEFAULT now())"
            )
            for version, name, sql in db.migrations_of("services.ingest"):
                if version <= 2:
                    await conn.execute(sql)
                    await conn.execute(
                        "INSERT INTO ingest.schema_migrations VALUES ($1, $2)", version, name
                    )
            await conn.execute(
                "INSERT INTO orders (channel, order_id, customer_id, placed_at, country)"
                " VALUES ('web', 'A', 'c-1', now(), 'JP'), ('web', 'B', 'c-2', now(), 'JP');"
                "INSERT INTO order_lines VALUES"
                " ('web', 'A', 2, 'MUG-1', NULL, 'Mug', 1, '{}', 'none'),"
                " ('web', 'A', 1, 'HNY-500', '4901234567894', 'Honey', 2, '{honey}', 'rule')"
            )
        assert await db.migrate(pool, "ingest", "services.ingest") == [
            name for v, name, _ in db.migrations_of("services.ingest") if v > 2
        ]
        async with pool.acquire() as conn:
            audit = await store.order_audit(conn, "web", "A")
            empty = await store.order_audit(conn, "web", "B")
        assert audit is not None
        assert audit["lines"] == [
            {
                "line_no": 1,
                "sku": "HNY-500",
                "gtin": "4901234567894",
                "title": "Honey",
                "quantity": 2,
                "categories": ["honey"],
                "categorized_by": "rule",
            },
            {
                "line_no": 2,
                "sku": "MUG-1",
                "gtin": None,
                "title": "Mug",
                "quantity": 1,
                "categories": [],
                "categorized_by": "none",
            },
        ]
        assert empty is not None and empty["lines"] == []
        async with pool.acquire() as conn:
            known = await store.known_orders(conn, [("web", "A"), ("web", "Z")])
            with_lines = await conn.fetchval("SELECT to_regclass('ingest.order_lines')")
        assert known == {("web", "A"): store.Known("c-1", ["HNY-500", "MUG-1"], [2, 1])}
        assert with_lines is None
    finally:
        await pool.close()


async def test_catalog_gtins_become_gtin_14(database_url: str) -> None:
    pool = await db.create_pool(database_url, "ingest")
    try:
        async with pool.acquire() as conn:
            # The schema as version 5 left it: GTINs as they were sent.
            await conn.execute(
                "CREATE SCHEMA IF NOT EXISTS ingest; CREATE TABLE ingest.schema_migrations ("
                " version int PRIMARY KEY, name text NOT NULL,"
                " applied_at timestamptz NOT NULL DEFAULT now())"
            )
            for version, name, sql in db.migrations_of("services.ingest"):
                if version <= 5:
                    await conn.execute(sql)
                    await conn.execute(
                        "INSERT INTO ingest.schema_migrations VALUES ($1, $2)", version, name
                    )
            await conn.execute(
                "INSERT INTO catalog (sku, gtin, title) VALUES ('JAN', '4901234567894', 'a'),"
                " ('UPC', '036000291452', 'b'), ('EAN8', '96385074', 'c'), ('NONE', ' ', 'd'),"
                " ('G14', '04901234567887', 'e'), ('ODD', 'X-1', 'f')"
            )
        await db.migrate(pool, "ingest", "services.ingest")
        async with pool.acquire() as conn:
            _, by_gtin = await store.catalog_categories(
                conn, set(), {"04901234567894", "00036000291452", "00000096385074"}
            )
            rows = await conn.fetch("SELECT sku, gtin FROM catalog ORDER BY sku")
    finally:
        await pool.close()
    assert sorted(by_gtin) == ["00000096385074", "00036000291452", "04901234567894"]
    assert {r["sku"]: r["gtin"] for r in rows} == {
        "EAN8": "00000096385074",
        "G14": "04901234567887",
        "JAN": "04901234567894",
        "NONE": None,
        "ODD": "X-1",
        "UPC": "00036000291452",
    }
