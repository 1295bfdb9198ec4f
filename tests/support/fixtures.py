"""Fixtures for running services in-process against the real servers."""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from shared.clock import Clock
from shared.config import Settings

Build = Callable[[Settings, Clock | None], web.Application]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark each test with its tier, taken from its folder (unit, service, e2e)."""
    for item in items:
        tier = Path(str(item.fspath)).parent.name
        if tier in ("unit", "service", "e2e"):
            item.add_marker(getattr(pytest.mark, tier))


@pytest.fixture
def clock() -> Clock:
    """A clock the test moves; it starts at the wall-clock time."""
    return Clock()


@contextlib.asynccontextmanager
async def running(build: Build, settings: Settings, clock: Clock, port: int) -> AsyncIterator[str]:
    """Run one service application on a port; yield its base URL; shut it down cleanly."""
    app = build(settings, clock)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


async def run_services(
    stack: contextlib.AsyncExitStack, settings: Settings, clock: Clock, *names: str
) -> dict[str, str]:
    """Run the named services in-process on their configured ports; return their base URLs."""

    urls = {}
    for name in names:
        build = importlib.import_module(f"services.{name}.app").build
        port = getattr(settings, f"{name}_port")
        urls[name] = await stack.enter_async_context(running(build, settings, clock, port))
    return urls


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    """An HTTP client."""
    async with aiohttp.ClientSession() as session:
        yield session


def utc(text: str) -> datetime:
    """Parse an ISO time as UTC."""
    return datetime.fromisoformat(text).astimezone(UTC)


def client_from(address: str) -> aiohttp.ClientSession:
    """A client whose connections come from `address` (Linux answers all of 127.0.0.0/8)."""
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(local_addr=(address, 0)))
