"""`anshin agency create NAME` prints a key once and stores only its hash."""

from __future__ import annotations

import argparse
import hashlib

import aiohttp
import asyncpg
import pytest

from services.advisory import cli
from services.advisory.app import build
from shared.clock import Clock
from shared.config import Settings
from shared.errors import Conflict
from tests.support.fixtures import running


async def test_the_printed_key_works_and_only_its_hash_is_kept(
    settings: Settings,
    clock: Clock,
    http: aiohttp.ClientSession,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert (
        await cli.create_agency(
            argparse.Namespace(name="Tokyo Fire Department", timezone="UTC", json=False), settings
        )
        == 0
    )
    printed = capsys.readouterr().out
    key = next(line.split()[1] for line in printed.splitlines() if line.startswith("key:"))
    conn = await asyncpg.connect(settings.database_url)
    try:
        stored = await conn.fetchrow("SELECT * FROM advisory.agencies")
    finally:
        await conn.close()
    assert stored is not None
    assert stored["key_hash"] == hashlib.sha256(key.encode()).hexdigest()
    assert key not in str(dict(stored))
    with pytest.raises(Conflict):
        await cli.create_agency(
            argparse.Namespace(name="Tokyo Fire Department", timezone="UTC", json=False), settings
        )
    async with running(build, settings, clock, settings.advisory_port) as base:
        reply = await http.get(f"{base}/v1/advisories", headers={"Authorization": f"Bearer {key}"})
        assert reply.status == 200 and (await reply.json()) == {"advisories": []}
