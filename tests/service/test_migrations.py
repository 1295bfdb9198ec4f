"""The migration runner against a real PostgreSQL: checksums, lock_timeout, no-transaction."""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from shared import db
from tests.support.production import start

SCHEMA = "runner"
TABLE = "CREATE TABLE items (id int PRIMARY KEY, label text);"


class Package:
    """A package of migrations on disk, importable under a name of its own."""

    def __init__(self, root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.name = f"migrations_{secrets.token_hex(4)}"
        self.dir = root / self.name / "migrations"
        self.dir.mkdir(parents=True)
        (root / self.name / "__init__.py").write_text("")
        monkeypatch.syspath_prepend(str(root))

    def write(self, name: str, sql: str) -> None:
        (self.dir / name).write_text(sql)


@pytest.fixture
def package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Package:
    return Package(tmp_path, monkeypatch)


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    # One connection: what a migration leaves set on it is what the service gets next.
    pool = await db.create_pool(database_url, SCHEMA, min_size=1, max_size=1)
    try:
        yield pool
    finally:
        await pool.close()


async def recorded(pool: asyncpg.Pool) -> dict[str, str | None]:
    rows = await pool.fetch(f"SELECT name, checksum FROM {SCHEMA}.schema_migrations")
    return {r["name"]: r["checksum"] for r in rows}


async def test_an_applied_migration_edited_since_is_refused_naming_it(
    pool: asyncpg.Pool, package: Package
) -> None:
    package.write("001_items.sql", TABLE)
    package.write("002_colour.sql", "ALTER TABLE items ADD COLUMN colour text;")
    assert await db.migrate(pool, SCHEMA, package.name) == ["001_items.sql", "002_colour.sql"]
    package.write("001_items.sql", TABLE.replace("label text", "label varchar(40)"))
    package.write("003_size.sql", "ALTER TABLE items ADD COLUMN size int;")
    with pytest.raises(db.MigrationError) as refused:
        await db.migrate(pool, SCHEMA, package.name)
    assert "001_items.sql" in str(refused.value)
    assert "002_colour.sql" not in str(refused.value)
    # Refused before anything was applied.
    assert sorted(await recorded(pool)) == ["001_items.sql", "002_colour.sql"]
    # Restored as it was applied, it lets the next one through.
    package.write("001_items.sql", TABLE)
    assert await db.migrate(pool, SCHEMA, package.name) == ["003_size.sql"]


async def test_a_database_that_kept_no_checksums_gets_them_and_is_then_held_to_them(
    pool: asyncpg.Pool, package: Package
) -> None:
    package.write("001_items.sql", TABLE)
    package.write("002_colour.sql", "ALTER TABLE items ADD COLUMN colour text;")
    async with pool.acquire() as conn:
        # The table as the runner kept it before checksums, with 001 applied.
        await conn.execute(
            f"CREATE TABLE {SCHEMA}.schema_migrations ("
            " version int PRIMARY KEY, name text NOT NULL,"
            " applied_at timestamptz NOT NULL DEFAULT now());"
            f"{TABLE} INSERT INTO {SCHEMA}.schema_migrations VALUES (1, '001_items.sql')"
        )
    assert await db.migrate(pool, SCHEMA, package.name) == ["002_colour.sql"]
    assert await recorded(pool) == {
        name: db.checksum((package.dir / name).read_text())
        for name in ("001_items.sql", "002_colour.sql")
    }
    package.write("001_items.sql", TABLE + "\nCREATE INDEX ON items (label);")
    with pytest.raises(db.MigrationError, match=r"001_items\.sql"):
        await db.migrate(pool, SCHEMA, package.name)


async def test_a_migration_waiting_for_a_lock_fails_after_the_lock_timeout(
    pool: asyncpg.Pool, package: Package, database_url: str
) -> None:
    package.write("001_items.sql", TABLE)
    await db.migrate(pool, SCHEMA, package.name)
    package.write("002_colour.sql", "ALTER TABLE items ADD COLUMN colour text;")
    reader = await asyncpg.connect(database_url)
    try:
        # A long transaction that read the table holds a lock the ALTER TABLE must wait for.
        reading = reader.transaction()
        await reading.start()
        await reader.fetch(f"SELECT * FROM {SCHEMA}.items")
        async with asyncio.timeout(30):  # without a lock_timeout it would wait for good
            with pytest.raises(db.MigrationError) as refused:
                await db.migrate(pool, SCHEMA, package.name, lock_timeout_s=0.2)
        assert "002_colour.sql" in str(refused.value)
        assert "lock_timeout" in str(refused.value)
        assert sorted(await recorded(pool)) == ["001_items.sql"]
        await reading.commit()
        async with asyncio.timeout(30):  # the advisory lock was let go as well
            assert await db.migrate(pool, SCHEMA, package.name) == ["002_colour.sql"]
        assert await pool.fetchval("SHOW lock_timeout") == "0"  # the session's own again
    finally:
        await reader.close()


async def test_a_no_transaction_migration_builds_an_index_concurrently(
    pool: asyncpg.Pool, package: Package, database_url: str
) -> None:
    package.write(
        "001_items.sql", TABLE + "INSERT INTO items SELECT n, 'x' FROM generate_series(1, 100) n;"
    )
    await db.migrate(pool, SCHEMA, package.name)
    package.write(
        "002_label_index.sql",
        f"{db.NO_TRANSACTION}\n"
        "CREATE INDEX CONCURRENTLY IF NOT EXISTS items_label ON items (label);\n",
    )
    writer = await asyncpg.connect(database_url)
    # Outside any transaction: pg_stat_activity is read once per transaction.
    watcher = await asyncpg.connect(database_url)
    try:
        # CONCURRENTLY waits for the transactions that write the table: longer than the
        # lock_timeout, which does not cut that wait short.
        writing = writer.transaction()
        await writing.start()
        await writer.execute(f"INSERT INTO {SCHEMA}.items VALUES (101, 'y')")
        migrating = asyncio.create_task(db.migrate(pool, SCHEMA, package.name, lock_timeout_s=0.2))
        async with asyncio.timeout(30):
            while not await watcher.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                " AND query LIKE '%CREATE INDEX CONCURRENTLY%'"
                " AND clock_timestamp() - query_start > interval '1 second'"
            ):
                assert not migrating.done(), migrating
                await asyncio.sleep(0.05)
        await writing.commit()
        async with asyncio.timeout(30):
            assert await migrating == ["002_label_index.sql"]
    finally:
        await writer.close()
        await watcher.close()
    valid = await pool.fetchval(
        f"SELECT indisvalid FROM pg_index WHERE indexrelid = '{SCHEMA}.items_label'::regclass"
    )
    assert valid is True
    assert sorted(await recorded(pool)) == ["001_items.sql", "002_label_index.sql"]
    # The connection goes back to the pool as the service set it up.
    assert await pool.fetchval("SHOW search_path") == f"{SCHEMA},public"
    assert await pool.fetchval("SHOW lock_timeout") == "0"


async def test_a_service_on_an_edited_migration_exits_with_one_line_naming_it(
    database_url: str,
) -> None:
    pool = await db.create_pool(database_url, "ingest", min_size=1, max_size=1)
    try:
        await db.migrate(pool, "ingest", "services.ingest")
        # As if 001_init.sql had been applied with other text than the file has now.
        await pool.execute("UPDATE schema_migrations SET checksum = $1 WHERE version = 1", "0" * 64)
    finally:
        await pool.close()
    ran = await start("ingest", {**os.environ, "DATABASE_URL": database_url})
    assert ran is not None and ran.code != 0, ran
    assert "Traceback" not in ran.err, ran.err
    last = ran.err.strip().splitlines()[-1]
    assert last.startswith("ingest: schema ingest: refusing to migrate"), last
    assert "001_init.sql" in last and "002_" not in last
