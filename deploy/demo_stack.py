"""The running stack as the demo sees it: URLs, the operator key, the bus and the Maildir."""

from __future__ import annotations

import asyncio
import mailbox
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
from nats.js.errors import NotFoundError

from shared import bus
from shared.bus import CONSUMERS
from shared.config import Settings
from shared.errors import AnshinError

SERVICES = ("ingest", "advisory", "matcher", "mailer")


class Stack:
    """One running Anshin, reached over HTTP like any client, and watched on NATS."""

    def __init__(self, settings: Settings, http: aiohttp.ClientSession) -> None:
        self.settings = settings
        self.http = http

    def url(self, service: str) -> str:
        """The base URL of a service."""
        return f"http://127.0.0.1:{getattr(self.settings, f'{service}_port')}"

    @property
    def maildir(self) -> Path:
        """The local mailbox of `make up`."""
        return Path(self.settings.data_dir).resolve() / "mail"

    def mails(self) -> int | None:
        """How many mails the local mailbox holds; None where there is none."""
        if not self.maildir.is_dir():
            return None
        return len(mailbox.Maildir(str(self.maildir), create=False))

    async def check(self) -> None:
        """Raise naming the first service that is not ready, or a missing operator key."""
        for service in SERVICES:
            try:
                async with self.http.get(f"{self.url(service)}/readyz") as reply:
                    ready = reply.status == 200
            except (aiohttp.ClientError, TimeoutError):
                ready = False
            if not ready:
                raise AnshinError(
                    f"{service} is not ready at {self.url(service)}: start the stack with"
                    " `make up` (with the same ANSHIN_* settings) and run the demo again"
                )
        if not self.settings.operator_key:
            raise AnshinError("no operator key: set ANSHIN_OPERATOR_KEY or ANSHIN_DATA_DIR")

    async def call(
        self, method: str, url: str, *, ok: tuple[int, ...] = (200,), **kwargs: Any
    ) -> Any:
        """One HTTP call as an operator; an unexpected status raises with the answer."""
        headers = {"Authorization": f"Bearer {self.settings.operator_key}"}
        headers.update(kwargs.pop("headers", {}))
        async with self.http.request(method, url, headers=headers, **kwargs) as reply:
            body = await reply.read()
            if reply.status not in ok:
                text = body.decode(errors="replace")[:300]
                raise AnshinError(f"{method} {url}: HTTP {reply.status}: {text}")
            return await reply.json() if body else None

    async def bus_idle(self) -> bool:
        """Whether every durable consumer has taken and acknowledged all it was given."""
        nc = await bus.connect_as(self.settings, "anshin-demo")
        try:
            js = nc.jetstream()
            for spec in CONSUMERS.values():
                try:
                    info = await js.consumer_info(spec.stream, spec.durable)
                except NotFoundError:
                    continue
                if info.num_pending or info.num_ack_pending:
                    return False
            return True
        finally:
            await nc.close()


async def settle(
    probe: Callable[[], Awaitable[object]], *, quiet: float, timeout: float, every: float = 0.5
) -> bool:
    """Wait until `probe` gives the same truthy answer for `quiet` seconds; False on timeout."""
    deadline = time.monotonic() + timeout
    last: object = None
    since = time.monotonic()
    while time.monotonic() < deadline:
        seen = await probe()
        if not seen or seen != last:
            last, since = seen, time.monotonic()
        elif time.monotonic() - since >= quiet:
            return True
        await asyncio.sleep(every)
    return False
