"""/portal: agencies sign in with their key, submit advisories, preview them, see their reach.

Signing in opens a server-side session (`store_sessions`): the cookie holds only its random
id (HttpOnly, SameSite=Strict, scoped to /portal), never the key, so a stolen cookie is not
a stolen key and signing out ends it. Every form carries a token derived from the session
id (console_web.csrf_token), and a cross-site Origin is refused.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from aiohttp import web

from services.advisory.agencies.auth import hash_key
from services.advisory.api.evidence import stream as export_evidence
from services.advisory.desk.portal import store as store_sessions
from services.advisory.desk.portal.form import (
    CATEGORY_NAMES,
    CHOICES,
    FIELD_KINDS,
    INPUTS,
    KINDS,
    LABELS,
    LANGS,
    RULE_FIELDS,
    as_advisory,
    utc_texts,
)
from services.advisory.desk.portal.view import advisory_page
from services.advisory.desk.web import checked_form, csrf_token, html, refused, same_origin
from services.advisory.lifecycle import embargo, store
from shared.errors import NotFound
from shared.http import POOL
from shared.languages import N_
from shared.operator import is_operator_key
from shared.service import CLOCK, SETTINGS

routes = web.RouteTableDef()

COOKIE = "anshin_agency"
SESSION_SECONDS = 8 * 3600


class Session:
    """A signed-in agency: the session's id (for the form token), the agency's id, name and
    time zone (its pages show and read times in it)."""

    def __init__(self, sid: str, agency_id: str, name: str, timezone: str) -> None:
        self.sid, self.agency_id, self.name, self.timezone = sid, agency_id, name, timezone


async def session(request: web.Request) -> Session | None:
    """The agency of the live session named by the cookie, or None."""
    sid = request.cookies.get(COOKIE, "")
    if not sid:
        return None
    now = request.app[CLOCK].now()
    found = await store_sessions.session_agency(request.app[POOL], hash_key(sid), now)
    return None if found is None else Session(sid, *found)


def _page(
    request: web.Request, me: Session, template: str, status: int = 200, **kw: Any
) -> web.Response:
    csrf = csrf_token(request, me.sid)
    return html(request, template, status, zone=me.timezone, me=me, csrf=csrf, **kw)


@routes.get("/portal")
async def home(request: web.Request) -> web.Response:
    """The sign-in form, or the agency's advisories."""
    me = await session(request)
    if me is None:
        response = html(request, "portal_login.html.j2", zone="UTC", problem="")
        if COOKIE in request.cookies:  # expired, signed out, or a key from before sessions
            response.del_cookie(COOKIE, path="/portal")
        return response
    advisories = await store.list_advisories(request.app[POOL], me.agency_id)
    now = request.app[CLOCK].now()
    return _page(request, me, "portal_home.html.j2", advisories=advisories, now=now)


@routes.post("/portal/login")
async def login(request: web.Request) -> web.Response:
    """Check the key and open a session; the cookie holds the session's id, never the key."""
    if not same_origin(request):
        return refused(request)
    key = str((await request.post()).get("key", "")).strip()
    if is_operator_key(request.app[SETTINGS].operator_key, key):
        problem = N_("This is the agencies' portal: operators use the console.")
        return html(request, "portal_login.html.j2", 401, zone="UTC", problem=problem)
    sid, now = secrets.token_urlsafe(32), request.app[CLOCK].now()
    expires = now + timedelta(seconds=SESSION_SECONDS)
    pool, opened = request.app[POOL], None
    if key:
        opened = await store_sessions.open_session(pool, hash_key(sid), hash_key(key), now, expires)
    if opened is None:
        problem = N_("This key is not known.")
        return html(request, "portal_login.html.j2", 401, zone="UTC", problem=problem)
    if (old := request.cookies.get(COOKIE)) is not None:
        await store_sessions.close_session(pool, hash_key(old))  # one browser, one session
    response = web.HTTPSeeOther("/portal")
    # Secure when the request came over HTTPS, to us or to a trusted proxy (shared.forwarded).
    response.set_cookie(
        COOKIE, sid, max_age=SESSION_SECONDS, path="/portal", httponly=True,
        samesite="Strict", secure=request.secure,
    )  # fmt: skip
    raise response


@routes.post("/portal/logout")
async def logout(request: web.Request) -> web.Response:
    """End the session: its id is deleted, and signs no one in again."""
    me = await session(request)
    if me is not None:
        if await checked_form(request, me.sid) is None:
            return refused(request)
        await store_sessions.close_session(request.app[POOL], hash_key(me.sid))
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
        categories=CATEGORY_NAMES, choices=CHOICES, rule_fields=RULE_FIELDS, inputs=INPUTS,
        fields_kinds=FIELD_KINDS, utc_now=utc_texts(values, me.timezone),
    )  # fmt: skip


@routes.post("/portal/advisories")
async def submit(request: web.Request) -> web.Response:
    """Submit the form: the advisory is stored under embargo, as through the API."""
    me = await session(request)
    if me is None:
        raise web.HTTPSeeOther("/portal")
    form = await checked_form(request, me.sid)
    if form is None:
        return refused(request)
    now = request.app[CLOCK].now()
    advisory, problems = as_advisory(form, now, me.timezone)
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
        message = N_("This advisory is not one of yours, or does not exist.")
        return _page(request, me, "portal_message.html.j2", 404, message=message)
    return _page(request, me, "portal_advisory.html.j2", **context)


@routes.get("/portal/advisories/{advisory_id}/evidence")
async def evidence(request: web.Request) -> web.StreamResponse:
    """One of the agency's advisories' evidence, signed, as `GET /v1/…/evidence` gives it."""
    me = await session(request)
    if me is None:
        raise web.HTTPSeeOther("/portal")
    try:
        advisory = await store.get_advisory(request.app[POOL], request.match_info["advisory_id"])
    except NotFound:
        advisory = None
    if advisory is None or not embargo.may_see(me.agency_id, advisory.agency_id):
        message = N_("This advisory is not one of yours, or does not exist.")
        return _page(request, me, "portal_message.html.j2", 404, message=message)
    return await export_evidence(request, advisory)
