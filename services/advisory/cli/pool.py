"""A small pool on advisory's schema, migrated, for the commands that work in it directly."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import asyncpg

from services.advisory import PACKAGE, SCHEMA
from shared import db
from shared.config import Settings


@contextlib.asynccontextmanager
async def advisory_pool(settings: Settings, max_size: int = 2) -> AsyncIterator[asyncpg.Pool]:
    """A pool on advisory's schema, brought up to date first; closed on the way out."""
    pool = await db.create_pool(settings.database_url, SCHEMA, min_size=1, max_size=max_size)
    try:
        await db.migrate(pool, SCHEMA, PACKAGE)
        yield pool
    finally:
        await pool.close()
