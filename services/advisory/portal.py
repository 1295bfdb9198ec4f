"""/portal: agencies sign in with their key, submit advisories, preview them, see their reach.

The key lives in an HttpOnly, SameSite=Strict cookie scoped to /portal; every form also
carries a token derived from it (console_web.csrf_token), and a cross-site Origin is refused.
"""

from __future__ import annotations

import hmac
from typing import Any

from aiohttp import web

from services.advisory import store, store_console
from services.advisory.auth import hash_key
from services.advisory.console_web import checked_form, csrf_token, html, refused, same_origin
from services.advisory.portal_form import CATEGORY_NAMES, KINDS, LABELS, LANGS, as_advisory
from services.advisory.portal_view import advisory_page
from shared.http import POOL
from shared.service import CLOCK, SETTINGS

routes = web.RouteTableDef()

COOKIE = "anshin_agency"
SESSION_SECONDS = 8 * 3600


class Session:
    """A signed-in agency: its key (for the form token), id and name."""

    def __init__(self, key: str, agency_id: str, name: str) -> None:
        self.key, self.agency_id, self.name = key, agency_id, name


async def session(request: web.Request) -> Session | None:
    """The agency whose key is in the cookie, or None."""
    key = request.cookies.get(COOKIE, "")
    if not key:
        return None
    found = await store.agency_by_key_hash(request.app[POOL], hash_key(key))
    if found is None:
        return None
    return Session(key, found, await store_console.agency_name(request.app[POOL], found))


def _page(
    request: web.Request, me: Session, template: str, status: int = 200, **kw: Any
) -> web.Response:
    return html(request, template, status, me=me, csrf=csrf_token(request, me.key), **kw)


@routes.get("/portal")
async def home(request: web.Request) -> web.Response:
    """The sign-in form, or the agency's advisories."""
    me = await session(request)
    if me is None:
        return html(request, "portal_login.html.j2", problem="")
    advisories = await store.list_advisories(request.app[POOL], me.agency_id)
    now = request.app[CLOCK].now()
    return _page(request, me, "portal_home.html.j2", advisories=advisories, now=now)


@routes.post("/portal/login")
async def login(request: web.Request) -> web.Response:
    """Check the key, keep it in an HttpOnly, SameSite=Strict cookie."""
    if not same_origin(request):
        return refused(request)
    key = str((await request.post()).get("key", "")).strip()
    operator_key = request.app[SETTINGS].operator_key
    if operator_key and hmac.compare_digest(key.encode(), operator_key.encode()):
        problem = "This is the agencies' portal: operators use the console."
        return html(request, "portal_login.html.j2", 401, problem=problem)
    if not key or await store.agency_by_key_hash(request.app[POOL], hash_key(key)) is None:
        return html(request, "portal_login.html.j2", 401, problem="This key is not known.")
    response = web.HTTPSeeOther("/portal")
    response.set_cookie(
        COOKIE, key, max_age=SESSION_SECONDS, path="/portal", httponly=True,
        samesite="Strict", secure=request.secure,
    )  # fmt: skip
    raise response


@routes.post("/portal/logout")
async def logout(request: web.Request) -> web.Response:
    """Forget the key."""
    me = await session(request)
    if me is not None and await checked_form(request, me.key) is None:
        return refused(request)
    response = web.HTTPSeeOther("/portal")
    response.del_cookie(COOKIE, path="/portal")
    raise response


@routes.get("/portal/new")
async def new(request: web.Request) -> web.Response:
    """The form of a new advisory."""
    me = await session(request)
    if me is None:
        raise web.HTTPSeeOther("/portal")
    return _form(request, me, {"kind": "short_term"}, {})


def _form(
    request: web.Request, me: Session, values: dict[str, str], problems: dict[str, str]
) -> web.Response:
    status = 400 if problems else 200
    return _page(
        request, me, "portal_new.html.j2", status,
        values=values, problems=problems, kinds=KINDS, langs=LANGS, labels=LABELS,
        categories=CATEGORY_NAMES,
    )  # fmt: skip


@routes.post("/portal/advisories")
async def submit(request: web.Request) -> web.Response:
    """Submit the form: the advisory is stored under embargo, as through the API."""
    me = await session(request)
    if me is None:
        raise web.HTTPSeeOther("/portal")
    form = await checked_form(request, me.key)
    if form is None:
        return refused(request)
    now = request.app[CLOCK].now()
    advisory, problems = as_advisory(form, now)
    if advisory is None:
        return _form(request, me, form, problems)
    advisory_id = await store.create_advisory(request.app[POOL], me.agency_id, advisory, now)
    raise web.HTTPSeeOther(f"/portal/advisories/{advisory_id}")


@routes.get("/portal/advisories/{advisory_id}")
async def one(request: web.Request) -> web.Response:
    """One of the agency's advisories: preview in each language, audience, reach."""
    me = await session(request)
    if me is None:
        raise web.HTTPSeeOther("/portal")
    context = await advisory_page(request, me.agency_id)
    if context is None:
        message = "This advisory is not one of yours, or does not exist."
        return _page(request, me, "portal_message.html.j2", 404, message=message)
    return _page(request, me, "portal_advisory.html.j2", **context)
