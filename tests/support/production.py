"""A service process started as a manifest starts it, in production (ANSHIN_ENV=production)."""

from __future__ import annotations

import asyncio
import os
import sys

from deploy.servers import free_port
from tests.support.launcher import Ran


def production_env(**settings: str) -> dict[str, str]:
    """A manifest's environment: production, nothing of the caller's ANSHIN_* settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANSHIN_", "NATS_URL"))}
    env.pop("DATABASE_URL", None)
    # Nothing listens here: a service that got past the check would wait for ever.
    env.update(ANSHIN_ENV="production", NATS_URL=f"nats://127.0.0.1:{free_port()}")
    env.update(settings)
    return env


async def start(service: str, env: dict[str, str], timeout: float = 30) -> Ran | None:
    """Run `python -m services.<service>` until it exits; None if it was still running."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        f"services.{service}",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), timeout)
    except TimeoutError:
        process.kill()
        await process.wait()
        return None
    assert process.returncode is not None
    return Ran(process.returncode, out.decode(), err.decode())


def refused(ran: Ran | None, service: str) -> bool:
    """Whether the service exited non-zero with one line saying why it refused to start."""
    if ran is None or ran.code == 0:
        return False
    lines = ran.err.splitlines()
    return len(lines) == 1 and lines[0].startswith(f"{service}: refusing to start in production:")
