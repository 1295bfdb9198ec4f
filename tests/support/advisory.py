"""Building blocks for the advisory service's tests: agencies, responders, the API contract."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from typing import Any

import aiohttp
import jsonschema
import nats
import nats.aio.msg

from services.advisory.agencies import auth
from services.advisory.agencies import store as advisory_store
from shared import db
from shared.config import Settings

Answer = Callable[[bytes], Awaitable[bytes]]


async def new_agency(settings: Settings, name: str, timezone: str = "UTC") -> dict[str, str]:
    """Create an agency straight in the database; return its Authorization header."""
    pool = await db.create_pool(settings.database_url, "advisory", min_size=1, max_size=1)
    try:
        key = auth.new_key()
        await advisory_store.create_agency(pool, name, auth.hash_key(key), timezone)
        return {"Authorization": f"Bearer {key}"}
    finally:
        await pool.close()


def operator(settings: Settings) -> dict[str, str]:
    """The operators' Authorization header."""
    return {"Authorization": f"Bearer {settings.operator_key}"}


@contextlib.asynccontextmanager
async def responder(nats_url: str, subject: str, answer: Answer) -> AsyncIterator[list[bytes]]:
    """Stand in for another service on a request-reply subject; yield the questions heard."""
    nc = await nats.connect(nats_url)
    heard: list[bytes] = []

    async def on_request(msg: nats.aio.msg.Msg) -> None:
        heard.append(msg.data)
        await msg.respond(await answer(msg.data))

    await nc.subscribe(subject, cb=on_request)
    await nc.flush()
    try:
        yield heard
    finally:
        await nc.drain()


def disaster_playbook(embargo_until: datetime, **changes: Any) -> dict[str, Any]:
    """A disaster advisory for portable generators in Japanese earthquakes."""
    advisory = {
        "kind": "disaster",
        "categories": ["portable_generator"],
        "hazards": ["earthquake"],
        "countries": ["JP"],
        "title": {"ja": "発電機による一酸化炭素中毒に注意", "en": "Generators: beware of CO"},
        "body": {"ja": "屋内で使わないでください。", "en": "Never run a generator indoors."},
        "embargo_until": embargo_until.isoformat(),
    }
    advisory.update(changes)
    return advisory


class Contract:
    """The service's /openapi.json, used to check every answer a test receives."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document

    async def check(
        self, reply: aiohttp.ClientResponse, path: str, status: int, method: str = ""
    ) -> Any:
        """Check the reply's status and validate its JSON against the documented schema."""
        body = await reply.json() if reply.content_type == "application/json" else None
        assert reply.status == status, body
        operation = self.document["paths"][path][(method or reply.method).lower()]
        documented = operation["responses"][str(status)]
        schema = documented["content"]["application/json"]["schema"]
        jsonschema.validate(
            body, {**schema, "components": self.document["components"]}, format_checker=None
        )
        return body


async def contract(http: aiohttp.ClientSession, base: str) -> Contract:
    """Fetch the service's OpenAPI document."""
    async with http.get(f"{base}/openapi.json") as reply:
        assert reply.status == 200
        return Contract(await reply.json())


async def stream_messages(nats_url: str, stream: str) -> list[tuple[str, dict[str, Any]]]:
    """Every message a JetStream stream holds, as (subject, decoded JSON)."""
    import json

    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        info = await js.stream_info(stream)
        found = []
        for seq in range(info.state.first_seq, info.state.last_seq + 1):
            if info.state.messages == 0:
                break
            raw = await js.get_msg(stream, seq)
            found.append((raw.subject, json.loads(raw.data or b"{}")))
        return found
    finally:
        await nc.close()


async def eventually(
    probe: Callable[[], Awaitable[Any]], timeout: float = 10.0, every: float = 0.1
) -> Any:
    """Poll `probe` until it returns something truthy; return that, or fail after `timeout`."""
    import asyncio

    async with asyncio.timeout(timeout):
        while not (result := await probe()):
            await asyncio.sleep(every)
    return result
