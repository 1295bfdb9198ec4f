"""HTTP helpers shared by the services: JSON errors, health, readiness, metrics, JSON bodies."""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import msgspec
from aiohttp import web
from nats.aio.client import Client
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from shared.errors import AnshinError, Invalid, TooLarge, field_error
from shared.metrics import HTTP_REQUESTS

log = logging.getLogger(__name__)

POOL = web.AppKey("pool", asyncpg.Pool)
NATS = web.AppKey("nats", Client)

_json = msgspec.json.Encoder()


def json_response(
    body: Any, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    """Encode any msgspec-friendly value as a JSON response."""
    return web.Response(
        body=_json.encode(body), status=status, content_type="application/json", headers=headers
    )


def error_body(message: str, details: list[Any] | None = None) -> dict[str, Any]:
    """The one JSON shape of every error: {"error": ..., "details": [...]}."""
    return {"error": message, "details": details or []}


@web.middleware
async def error_middleware(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Turn every error into a JSON answer; a bug becomes a 500 without internals."""
    route = (
        request.match_info.route.resource.canonical if request.match_info.route.resource else "-"
    )
    try:
        response = await handler(request)
    except AnshinError as exc:
        response = json_response(error_body(exc.message, exc.details), status=exc.status)
    except web.HTTPRequestEntityTooLarge:
        response = json_response(error_body("request body is too large"), status=413)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        if exc.content_type == "text/html":  # a page made for a person (a mail's broken link)
            response = web.Response(status=exc.status, text=exc.text, headers=exc.headers)
        else:
            response = json_response(error_body(exc.reason), status=exc.status)
    except Exception:
        log.exception("unhandled error on %s %s", request.method, route)
        response = json_response(error_body("internal error"), status=500)
    HTTP_REQUESTS.labels(route, str(response.status)).inc()
    return response


async def read_body(request: web.Request, limit: int) -> bytes:
    """Read the request body, refusing more than `limit` bytes with a 413."""
    if request.content_length is not None and request.content_length > limit:
        raise TooLarge(f"request body exceeds {limit} bytes")
    chunks = []
    size = 0
    async for chunk in request.content.iter_chunked(64 * 1024):
        size += len(chunk)
        if size > limit:
            raise TooLarge(f"request body exceeds {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


_MISSING = re.compile(r"Object missing required field `([^`]+)`")


def validation_details(exc: msgspec.ValidationError | msgspec.DecodeError) -> list[dict[str, str]]:
    """Turn a msgspec error ("... - at `$.a.b`") into a detail that names the field.

    A missing field is named itself, not the object that lacks it.
    """
    text = str(exc)
    message, sep, path = text.rpartition(" - at `")
    if not sep:
        message, path = text, "$"
    field = path.rstrip("`").removeprefix("$.").removeprefix("$") or "$"
    missing = _MISSING.match(message)
    if missing:
        field = missing.group(1) if field == "$" else f"{field}.{missing.group(1)}"
    return [field_error(field, message)]


def name_unknown_fields(details: list[dict[str, str]]) -> list[dict[str, str]]:
    """Point msgspec's "unknown field `x`" at `x` itself, not at the object holding it."""
    for detail in details:
        found = _UNKNOWN.search(detail["problem"])
        if found:
            prefix = "" if detail["field"] == "$" else detail["field"] + "."
            detail["field"] = prefix + found.group(1)
    return details


_UNKNOWN = re.compile(r"unknown field `([^`]+)`")


def decode_json(data: bytes, kind: Any) -> Any:
    """Decode and validate a JSON body, raising Invalid that names the field."""
    try:
        return msgspec.json.decode(data, type=kind)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise Invalid("invalid request body", validation_details(exc)) from exc


async def healthz(_: web.Request) -> web.Response:
    """Alive: the process answers."""
    return json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    """Ready: connected to NATS and PostgreSQL."""
    problems = []
    nc = request.app.get(NATS)
    if nc is None or not nc.is_connected:
        problems.append(field_error("nats", "not connected"))
    pool = request.app.get(POOL)
    try:
        if pool is None:
            raise RuntimeError("no pool")
        async with pool.acquire(timeout=2) as conn:
            await conn.fetchval("SELECT 1")
    except Exception:
        problems.append(field_error("postgres", "not reachable"))
    if problems:
        return json_response(error_body("not ready", problems), status=503)
    return json_response({"status": "ready"})


async def metrics(_: web.Request) -> web.Response:
    """Prometheus metrics of this process."""
    return web.Response(body=generate_latest(), headers={"Content-Type": CONTENT_TYPE_LATEST})


def add_ops_routes(app: web.Application) -> None:
    """Register /healthz, /readyz and /metrics."""
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)
