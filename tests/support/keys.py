"""Keys that write to ingest, as the headers a test sends: a channel's, a catalog key's."""

from __future__ import annotations

import json
import subprocess
import sys

from services.ingest import channel_cli
from shared.config import Settings


def bearer(key: str) -> dict[str, str]:
    """The Authorization header of a key."""
    return {"Authorization": f"Bearer {key}"}


async def channel_header(
    settings: Settings, name: str = "web", *, catalog: bool = False
) -> dict[str, str]:
    """Create channel `name` (a catalog key with `catalog`) in the test's database; its header.

    For a stack run as processes, pass `services.cli.stack_settings(env)`.
    """
    return bearer(await channel_cli.issue(settings, name, catalog=catalog))


def created_key(env: dict[str, str], *command: str) -> str:
    """The key `anshin agency create` or `anshin channel create` prints once, read as a
    script reads it (`--json`), from a shell with environment `env`."""
    out = subprocess.run(
        [sys.executable, "-m", "services.cli", *command, "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    key: str = json.loads(out)["key"]
    return key
