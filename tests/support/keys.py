"""Keys that write to ingest, as the headers a test sends: a channel's, a catalog key's."""

from __future__ import annotations

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
