"""In production (ANSHIN_ENV=production) a service never runs on a development secret.

Each service is started as a process, as a manifest starts it: with the default secret,
no operator key or no NATS credentials it exits at once, non-zero, with one line that
names what is missing; given everything it reads, it starts and becomes ready.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import aiohttp
import pytest

from deploy.local_env import secured_nats
from deploy.servers import free_port
from tests.support.launcher import Ran
from tests.support.production import production_env, refused, start

SERVICES = ("ingest", "advisory", "matcher", "mailer")


async def started(service: str, env: dict[str, str]) -> Ran:
    """The service's exit; the test fails if it went on running."""
    ran = await start(service, env)
    if ran is None:
        pytest.fail(f"{service} started in production with development settings")
    return ran


@pytest.mark.parametrize("service", SERVICES)
async def test_a_service_with_development_secrets_refuses_to_start(service: str) -> None:
    ran = await started(service, production_env())
    assert refused(ran, service), ran.err
    [line] = ran.err.splitlines()
    assert "ANSHIN_NATS_USER or ANSHIN_NATS_PASSWORD is empty" in line
    if service != "matcher":  # the matcher reads neither secret
        assert "ANSHIN_SECRET_KEY is the development default" in line
        assert "ANSHIN_OPERATOR_KEY is empty" in line
    if service == "advisory":  # it signs evidence exports
        assert "ANSHIN_EVIDENCE_KEY is empty" in line


async def test_the_default_secret_alone_is_refused() -> None:
    env = production_env(
        ANSHIN_OPERATOR_KEY="op",
        ANSHIN_NATS_USER="ingest",
        ANSHIN_NATS_PASSWORD="pw",
        ANSHIN_SECRET_KEY="dev-secret-change-me",
    )
    ran = await started("ingest", env)
    assert ran.code != 0
    assert ran.err.strip() == (
        "ingest: refusing to start in production: ANSHIN_SECRET_KEY is the development default"
    )


async def test_a_service_given_what_it_reads_starts_in_production(
    tmp_path: Path, database_url: str, http: aiohttp.ClientSession
) -> None:
    nats, passwords = secured_nats(tmp_path / "data")
    nats.start()
    port = free_port()
    env = production_env(
        NATS_URL=nats.url,
        DATABASE_URL=database_url,
        ANSHIN_INGEST_PORT=str(port),
        ANSHIN_SECRET_KEY="a-secret-of-our-own",
        ANSHIN_OPERATOR_KEY="an-operator-key",
        ANSHIN_NATS_USER="ingest",
        ANSHIN_NATS_PASSWORD=passwords["ingest"],
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "services.ingest", env=env, stderr=asyncio.subprocess.PIPE
    )
    try:
        async with asyncio.timeout(60):
            while True:
                assert process.returncode is None, "ingest exited"
                try:
                    async with http.get(f"http://127.0.0.1:{port}/readyz") as reply:
                        if reply.status == 200:
                            break
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.2)
    finally:
        process.terminate()
        _, err = await process.communicate()
        nats.stop()
    assert "refusing" not in err.decode()
