"""Mailer's HTTP API: unsubscribe (RFC 8058 one-click)."""

from __future__ import annotations

from aiohttp import web

from services.mailer import store, tokens
from shared.errors import NotFound
from shared.http import POOL, json_response
from shared.service import SETTINGS

routes = web.RouteTableDef()

_PAGE = """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Unsubscribe</title></head>
<body style="font-family:sans-serif;max-width:36em;margin:2em auto;padding:0 1em">
<h1>Safety messages</h1>
<form method="post"><p>Stop receiving safety messages from our shop?</p>
<button type="submit">Unsubscribe</button></form></body></html>"""


def _customer(request: web.Request) -> str:
    customer_id = tokens.verify(request.app[SETTINGS].secret_key, request.match_info["token"])
    if customer_id is None:
        raise NotFound("unknown or invalid unsubscribe link")
    return customer_id


@routes.get("/u/{token}")
async def unsubscribe_page(request: web.Request) -> web.Response:
    """A page with one button; GET never unsubscribes (mail scanners follow links)."""
    _customer(request)
    return web.Response(text=_PAGE, content_type="text/html")


@routes.post("/u/{token}")
async def unsubscribe(request: web.Request) -> web.Response:
    """Unsubscribe at once (RFC 8058 one-click, or the page's button)."""
    customer_id = _customer(request)
    await store.unsubscribe(request.app[POOL], customer_id)
    return json_response({"unsubscribed": True})
