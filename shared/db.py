"""The database: one asyncpg pool per service, bound to the service's own schema, and migrations."""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Sequence
from importlib import resources
from typing import TYPE_CHECKING, TypeAlias

import asyncpg

if TYPE_CHECKING:
    from asyncpg.pool import PoolConnectionProxy

    # What `pool.acquire()` yields and what a plain connect returns; store functions take both.
    Conn: TypeAlias = asyncpg.Connection[asyncpg.Record] | PoolConnectionProxy[asyncpg.Record]
else:
    Conn = asyncpg.Connection

log = logging.getLogger(__name__)

_MIGRATION_NAME = re.compile(r"^(\d{3,})_[a-z0-9_]+\.sql$")


async def create_pool(
    dsn: str, schema: str, *, min_size: int = 2, max_size: int = 10
) -> asyncpg.Pool:
    """Open a pool whose connections see only `schema` (and public) on their search path.

    The schema is created first: on a search path that names a missing schema, an
    unqualified CREATE TABLE would land in public.
    """
    conn = await asyncpg.connect(dsn)
    try:
        async with conn.transaction():
            # Replicas starting together would race on the catalog without the lock.
            await conn.execute("SELECT pg_advisory_xact_lock($1)", _lock_key(schema))
            await conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
    finally:
        await conn.close()
    pool = await asyncpg.create_pool(
        dsn,
        min_size=min_size,
        max_size=max_size,
        server_settings={"search_path": f"{schema},public", "application_name": f"anshin-{schema}"},
    )
    assert pool is not None
    return pool


def migrations_of(package: str) -> list[tuple[int, str, str]]:
    """Return (version, name, sql) for every migration file of a service package, in order."""
    found = []
    for entry in resources.files(package).joinpath("migrations").iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            found.append((int(match.group(1)), entry.name, entry.read_text(encoding="utf-8")))
    found.sort()
    versions = [v for v, _, _ in found]
    if len(set(versions)) != len(versions):
        raise RuntimeError(f"{package}: two migrations share a version number")
    return found


def _lock_key(schema: str) -> int:
    """A stable 63-bit advisory-lock key for a schema."""
    return (
        int.from_bytes(hashlib.sha256(f"anshin:migrate:{schema}".encode()).digest()[:8], "big") >> 1
    )


async def migrate(
    pool: asyncpg.Pool, schema: str, package: str, *, prelude: Sequence[str] = ()
) -> list[str]:
    """Apply the package's pending migrations under an advisory lock; return the names applied.

    Every replica calls this at start-up; the lock makes the second one wait and then find
    nothing left to do. `prelude` holds idempotent DDL shared by services (the outbox), run
    under the same lock.
    """
    applied: list[str] = []
    async with pool.acquire() as conn:
        await conn.execute("SELECT pg_advisory_lock($1)", _lock_key(schema))
        try:
            await conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
            for ddl in prelude:
                await conn.execute(ddl)
            await conn.execute(
                f'CREATE TABLE IF NOT EXISTS "{schema}".schema_migrations ('
                " version int PRIMARY KEY, name text NOT NULL,"
                " applied_at timestamptz NOT NULL DEFAULT now())"
            )
            done = {
                r["version"]
                for r in await conn.fetch(f'SELECT version FROM "{schema}".schema_migrations')
            }
            for version, name, sql in migrations_of(package):
                if version in done:
                    continue
                async with conn.transaction():
                    await conn.execute(f'SET LOCAL search_path TO "{schema}", public')
                    await conn.execute(sql)
                    await conn.execute(
                        f'INSERT INTO "{schema}".schema_migrations (version, name) VALUES ($1, $2)',
                        version,
                        name,
                    )
                log.info("applied migration %s to schema %s", name, schema)
                applied.append(name)
        finally:
            await conn.execute("SELECT pg_advisory_unlock($1)", _lock_key(schema))
    return applied
