"""/console: the operators' page: every advisory with its state, and recent disasters."""

from __future__ import annotations

import base64
import binascii
import hmac

from aiohttp import web

from services.advisory import store, store_disasters
from services.advisory.pages import render
from shared.http import POOL
from shared.service import SETTINGS

routes = web.RouteTableDef()

# A browser cannot send a Bearer key from an address bar; Basic (any user name, the
# operator key as password) lets an operator open the page directly.
CHALLENGE = {"WWW-Authenticate": 'Basic realm="Anshin console", charset="UTF-8"'}


def given_key(header: str) -> str:
    """The key in `Authorization: Bearer KEY` or `Basic base64(user:KEY)`; empty if none."""
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer":
        return value.strip()
    if scheme.lower() == "basic":
        try:
            return base64.b64decode(value.strip(), validate=True).decode().partition(":")[2]
        except (binascii.Error, UnicodeDecodeError):
            return ""
    return ""


@routes.get("/console")
async def console(request: web.Request) -> web.Response:
    """Every advisory and the latest disasters, for operators only."""
    expected = request.app[SETTINGS].operator_key
    key = given_key(request.headers.get("Authorization", ""))
    if not expected or not key or not hmac.compare_digest(key.encode(), expected.encode()):
        html = render("message.html.j2", "en", message="Operators only: sign in with the key.")
        return web.Response(text=html, status=401, content_type="text/html", headers=CHALLENGE)
    pool = request.app[POOL]
    html = render(
        "console.html.j2",
        "en",
        advisories=await store.list_advisories(pool, None),
        disasters=await store_disasters.recent(pool),
    )
    return web.Response(
        text=html, content_type="text/html", headers={"Cache-Control": "private, no-store"}
    )
