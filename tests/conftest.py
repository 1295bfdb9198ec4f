"""Real servers for the suite: PostgreSQL, NATS with JetStream, and an SMTP sink.

Where DATABASE_URL or NATS_URL is set, those servers are used instead of embedded ones.
Each test gets its own database and (embedded) NATS server, so tests never see each
other's streams or rows.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest

from deploy.servers import NatsServer, Postgres, free_port, free_port_range
from shared.config import Settings
from tests.support.pg import postgres_home
from tests.support.smtp import SmtpSink

pytest_plugins = ["tests.support.fixtures"]


def _own_ports() -> None:
    """Give each xdist worker a slice of its own of `free_port`'s range (children inherit it).

    Workers choosing from one range could hand the same port to two servers at once: a
    launched stack then waited for a service that had exited, and CI timed out.
    """
    worker, count = (
        os.environ.get("PYTEST_XDIST_WORKER"),
        os.environ.get("PYTEST_XDIST_WORKER_COUNT"),
    )
    if not worker or not count or "FREE_PORTS" in os.environ:
        return
    ports = free_port_range()
    size = len(ports) // int(count)
    low = ports.start + int(worker.removeprefix("gw")) * size
    os.environ["FREE_PORTS"] = f"{low}-{low + size - 1}"


_own_ports()


@pytest.fixture(scope="session")
def postgres_admin_url() -> Iterator[str]:
    """A DSN with rights to create databases: DATABASE_URL, or an embedded server."""
    if os.environ.get("DATABASE_URL"):
        yield os.environ["DATABASE_URL"]
        return
    with postgres_home() as home:
        server = Postgres(home / "data", durable=False).start()
        try:
            yield server.url("postgres")
        finally:
            server.stop()


@pytest.fixture
async def database_url(postgres_admin_url: str) -> AsyncIterator[str]:
    """A fresh, empty database for one test."""
    name = f"t_{secrets.token_hex(6)}"
    admin = await asyncpg.connect(postgres_admin_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    yield _with_database(postgres_admin_url, name)
    admin = await asyncpg.connect(postgres_admin_url)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


def _with_database(dsn: str, name: str) -> str:
    """The same server, another database."""
    head, _, rest = dsn.partition("://")
    authority, _, tail = rest.partition("/")
    _, question, query = tail.partition("?")
    return f"{head}://{authority}/{name}{question}{query}"


@pytest.fixture
def nats_server(tmp_path: Path) -> Iterator[NatsServer | None]:
    """A fresh NATS server with JetStream for one test (None where NATS_URL is set)."""
    if os.environ.get("NATS_URL"):
        yield None
        return
    server = NatsServer(tmp_path / "nats").start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def nats_url(nats_server: NatsServer | None) -> str:
    """The URL of the test's NATS server."""
    return nats_server.url if nats_server is not None else os.environ["NATS_URL"]


@pytest.fixture
async def smtp_sink() -> AsyncIterator[SmtpSink]:
    """A real SMTP server (aiosmtpd) that keeps what it receives."""
    sink = SmtpSink()
    await sink.start()
    try:
        yield sink
    finally:
        await sink.stop()


@pytest.fixture
def settings(database_url: str, nats_url: str, smtp_sink: SmtpSink) -> Settings:
    """Settings pointing at this test's servers, with free ports."""
    return Settings(
        database_url=database_url,
        nats_url=nats_url,
        smtp_host="127.0.0.1",
        smtp_port=smtp_sink.port,
        operator_key="op-" + secrets.token_hex(8),
        secret_key=secrets.token_hex(16),
        ingest_port=free_port(),
        advisory_port=free_port(),
        matcher_port=free_port(),
        mailer_port=free_port(),
        max_deliver=3,
        # A test's outcome must not depend on the hour it runs at.
        quiet_hours="off",
    )
