"""The database: one asyncpg pool per service, bound to the service's own schema, the unit of
work its use cases open, and migrations."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import re
from collections.abc import AsyncIterator, Iterator, Sequence
from importlib import resources
from typing import TYPE_CHECKING, TypeAlias

import asyncpg

from shared.config import Settings, env_name

if TYPE_CHECKING:
    from asyncpg.pool import PoolConnectionProxy

    # What `pool.acquire()` yields and what a plain connect returns; store functions take both.
    Conn: TypeAlias = asyncpg.Connection[asyncpg.Record] | PoolConnectionProxy[asyncpg.Record]
else:
    Conn = asyncpg.Connection

log = logging.getLogger(__name__)

_MIGRATION_NAME = re.compile(r"^(\d{3,})_[a-z0-9_]+\.sql$")
# The first line of a migration that must run outside a transaction (CREATE INDEX
# CONCURRENTLY); PostgreSQL runs a string of several statements as one transaction, so such
# a migration holds one statement.
NO_TRANSACTION = "-- anshin: no-transaction"
LOCK_TIMEOUT_S = Settings().migration_lock_timeout_s


class MigrationError(RuntimeError):
    """A migration could not be applied, or an applied one no longer matches its file."""


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


@contextlib.asynccontextmanager
async def unit_of_work(pool: asyncpg.Pool, *, transaction: bool = True) -> AsyncIterator[Conn]:
    """One use case's connection, in a transaction: committed if the block ends, rolled back
    if it raises. What the block puts in the outbox (`shared.outbox.enqueue`) commits with it.

    `transaction=False` for a use case of one statement (atomic by itself) or of reads alone:
    BEGIN and COMMIT would cost two more round trips on a hot path for nothing.
    """
    async with pool.acquire() as conn:
        if not transaction:
            yield conn
            return
        async with conn.transaction():
            yield conn


class KeptConnection:
    """Units of work on one connection kept between them, for a worker that runs one every
    few milliseconds (the mailer's group commits): given back to the pool, asyncpg resets a
    connection, a round trip and four statements each time. A unit that fails gives it back
    (asyncpg closes a broken one); the next takes a fresh one."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool
        self._conn: PoolConnectionProxy[asyncpg.Record] | None = None

    @contextlib.asynccontextmanager
    async def unit_of_work(self, *, transaction: bool = True) -> AsyncIterator[Conn]:
        """As `unit_of_work`, on the kept connection."""
        if self._conn is None:
            self._conn = await self._pool.acquire()
        conn = self._conn
        try:
            async with conn.transaction() if transaction else contextlib.nullcontext():
                yield conn
        except BaseException:
            await self.release()
            raise

    async def release(self) -> None:
        """Give the connection back to the pool, if one is kept."""
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                await self._pool.release(conn)


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
    pool: asyncpg.Pool,
    schema: str,
    package: str,
    *,
    prelude: Sequence[str] = (),
    lock_timeout_s: float = LOCK_TIMEOUT_S,
) -> list[str]:
    """Apply the package's pending migrations under an advisory lock; return the names applied.

    Every replica calls this at start-up; the lock makes the second one wait and then find
    nothing left to do. `prelude` holds idempotent DDL shared by services (the outbox), run
    under the same lock. Each applied migration's checksum is kept: a migration file edited
    after it was applied stops the start with MigrationError, before anything is applied.
    A statement that waits longer than `lock_timeout_s` for a table's lock fails (0: waits
    for good): while it waits, every query on that table queues behind it.
    """
    applied: list[str] = []
    files = migrations_of(package)
    async with pool.acquire() as conn:
        # The advisory lock is taken before the lock_timeout: a replica waits for another's
        # migrations for as long as they take.
        await conn.execute("SELECT pg_advisory_lock($1)", _lock_key(schema))
        try:
            await _set_lock_timeout(conn, lock_timeout_s)
            with _naming_the_lock(schema, "the start-up DDL", lock_timeout_s):
                await conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
                for ddl in prelude:
                    await conn.execute(ddl)
                recorded = await _recorded(conn, schema)
            await _verify(conn, schema, package, files, recorded)
            for version, name, sql in files:
                if version in recorded:
                    continue
                with _naming_the_lock(schema, f"migration {name}", lock_timeout_s):
                    await _apply(conn, schema, version, name, sql, lock_timeout_s)
                log.info("applied migration %s to schema %s", name, schema)
                applied.append(name)
        finally:
            await conn.execute("RESET lock_timeout")
            await conn.execute("SELECT pg_advisory_unlock($1)", _lock_key(schema))
    return applied


def checksum(sql: str) -> str:
    """The sha256 of a migration's text, as recorded when it is applied."""
    return hashlib.sha256(sql.encode("utf-8")).hexdigest()


def outside_transaction(sql: str) -> bool:
    """Whether a migration's first line asks for it to run outside a transaction."""
    return sql.split("\n", 1)[0].strip() == NO_TRANSACTION


async def _set_lock_timeout(conn: Conn, seconds: float) -> None:
    await conn.execute("SELECT set_config('lock_timeout', $1, false)", f"{round(seconds * 1000)}ms")


async def _recorded(conn: Conn, schema: str) -> dict[int, str | None]:
    """The applied versions with their checksums (None: applied before checksums were kept)."""
    table = f'"{schema}".schema_migrations'
    await conn.execute(
        f"CREATE TABLE IF NOT EXISTS {table} ("
        " version int PRIMARY KEY, name text NOT NULL,"
        " applied_at timestamptz NOT NULL DEFAULT now(), checksum text)"
    )
    await conn.execute(f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS checksum text")
    rows = await conn.fetch(f"SELECT version, checksum FROM {table}")
    return {r["version"]: r["checksum"] for r in rows}


async def _verify(
    conn: Conn,
    schema: str,
    package: str,
    files: list[tuple[int, str, str]],
    recorded: dict[int, str | None],
) -> None:
    """Refuse applied migrations edited since; record the checksums of those applied before
    checksums were kept (their text then is the one they are held to from now on)."""
    edited = []
    for version, name, sql in files:
        if version not in recorded:
            continue
        kept, now = recorded[version], checksum(sql)
        if kept is None:
            await conn.execute(
                f'UPDATE "{schema}".schema_migrations SET checksum = $2 WHERE version = $1',
                version,
                now,
            )
        elif kept != now:
            edited.append(f"{name} (sha256 {kept[:12]} when applied, {now[:12]} now)")
    if edited:
        raise MigrationError(
            f"schema {schema}: refusing to migrate, {package} has applied migrations edited"
            f" since: {', '.join(edited)}; restore them and put the change in a new migration"
        )


async def _apply(
    conn: Conn, schema: str, version: int, name: str, sql: str, lock_timeout_s: float
) -> None:
    """Run one migration and record it, in one transaction unless it asks to run outside."""
    record = (
        f'INSERT INTO "{schema}".schema_migrations (version, name, checksum) VALUES ($1, $2, $3)'
    )
    if not outside_transaction(sql):
        async with conn.transaction():
            await conn.execute(f'SET LOCAL search_path TO "{schema}", public')
            await conn.execute(sql)
            await conn.execute(record, version, name, checksum(sql))
        return
    # CONCURRENTLY takes a lock that holds up no reader or writer, then waits for the
    # transactions already running: a lock_timeout would only cut that wait short and leave
    # an invalid index behind.
    await conn.execute(f'SET search_path TO "{schema}", public')
    await _set_lock_timeout(conn, 0)
    try:
        await conn.execute(sql)
    finally:
        await conn.execute("RESET search_path")
        await _set_lock_timeout(conn, lock_timeout_s)
    await conn.execute(record, version, name, checksum(sql))


@contextlib.contextmanager
def _naming_the_lock(schema: str, what: str, lock_timeout_s: float) -> Iterator[None]:
    """Turn a lock_timeout into an error that says what waited, and that nothing of it stayed."""
    try:
        yield
    except asyncpg.LockNotAvailableError as exc:
        raise MigrationError(
            f"schema {schema}: {what} waited over {lock_timeout_s:g} s for a lock that another"
            " session holds (lock_timeout) and was not applied; start again once that session"
            f" is done, or raise {env_name('migration_lock_timeout_s')}"
        ) from exc
