"""The launcher `make up` runs (`python -m deploy.local up`) when a service cannot start."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import pytest

from tests.support.stack import LaunchedStack, launch_env


async def test_a_service_that_exits_while_starting_stops_the_launch_and_is_named(
    tmp_path: Path, database_url: str, nats_url: str
) -> None:
    """Ingest's port is held by another listener: the launcher names ingest and its error.

    Before, the launcher asked ingest's readiness page for a minute after ingest had exited
    (the listener that holds the port accepts and never answers), then blamed the page.
    """
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        env = launch_env(
            tmp_path / "data",
            NATS_URL=nats_url,
            DATABASE_URL=database_url,
            ANSHIN_INGEST_PORT=str(holder.getsockname()[1]),
        )
        stack = LaunchedStack(tmp_path / "data", env)
        try:
            with pytest.raises(RuntimeError) as failed:
                await asyncio.to_thread(stack.start, 50.0, 1)
        finally:
            await asyncio.to_thread(stack.stop)
    said = str(failed.value)
    assert "ingest exited (code" in said, said
    assert "address already in use" in said, said
