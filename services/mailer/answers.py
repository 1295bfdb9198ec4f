"""A mail's own links: the safety page, counted once as read, and the two one-click answers.

`GET /r/{token}` notes the read and sends the reader on to the public safety page.
`GET /a/{token}` shows one button and changes nothing (mail scanners follow links);
`POST /a/{token}` (the button, or a one-click client) notes the answer: the first one counts.
"""

from __future__ import annotations

import jinja2
from aiohttp import web

from services.mailer import links
from services.mailer.invalid_link import invalid_link
from services.mailer.store import engagement
from services.mailer.store.ledger import Key
from shared.db import unit_of_work
from shared.errors import NotFound
from shared.http import POOL
from shared.mail.i18n import STRINGS, language_for
from shared.mail.render import safety_page
from shared.service import CLOCK, SETTINGS

routes = web.RouteTableDef()
# The routes that take no key (a link's token is no key): the key throttle leaves them alone.
PUBLIC = {("GET", "/r/{token}"), ("GET", "/a/{token}"), ("POST", "/a/{token}")}

_page = jinja2.Environment(
    loader=jinja2.PackageLoader("services.mailer", "templates"), autoescape=True
).get_template("answer.html.j2")


def _link(request: web.Request, purposes: str) -> links.Link:
    link = links.verify(request.app[SETTINGS].secret_key, request.match_info["token"], purposes)
    if link is None:
        raise invalid_link(request, "unknown or invalid link")
    return link


def _key(link: links.Link) -> Key:
    return link.advisory_id, link.event_id, link.customer_id


@routes.get("/r/{token}")
async def read(request: web.Request) -> web.Response:
    """Count the read (once per delivery), then go on to the advisory's public page."""
    link = _link(request, links.READ)
    async with unit_of_work(request.app[POOL]) as conn:
        row = await engagement.sent_row(conn, _key(link))
        if row is not None:
            await engagement.mark_read(conn, _key(link), request.app[CLOCK].now())
    page = safety_page(request.app[SETTINGS].public_url, link.advisory_id)
    if not page:
        raise NotFound("no public safety page is configured")
    lang = language_for(row["locale"]) if row is not None and row["locale"] else ""
    raise web.HTTPSeeOther(f"{page}?lang={lang}" if lang else page)


def _html(locale: str | None, asked: str, acted: str | None, *, done: bool = False) -> web.Response:
    lang = language_for(locale or "")
    text = _page.render(
        lang=lang, t=STRINGS[lang], asked=asked, done=done, before=bool(acted), acted=acted or ""
    )
    return web.Response(text=text, content_type="text/html", headers={"Cache-Control": "no-store"})


@routes.get("/a/{token}")
async def question(request: web.Request) -> web.Response:
    """The answer's page with one button; GET never counts an answer."""
    link = _link(request, "".join(links.ACTIONS))
    async with unit_of_work(request.app[POOL], transaction=False) as conn:
        row = await engagement.sent_row(conn, _key(link))
    if row is None:
        raise invalid_link(request, "unknown or invalid link")
    return _html(row["locale"], links.ACTIONS[link.purpose], row["acted"])


@routes.post("/a/{token}")
async def answer(request: web.Request) -> web.Response:
    """Note the answer at once (the page's button, or a one-click POST); the first one counts."""
    link = _link(request, "".join(links.ACTIONS))
    acted = links.ACTIONS[link.purpose]
    async with unit_of_work(request.app[POOL]) as conn:
        row = await engagement.sent_row(conn, _key(link))
        if row is None:
            raise invalid_link(request, "unknown or invalid link")
        if await engagement.mark_acted(conn, _key(link), acted, request.app[CLOCK].now()):
            return _html(row["locale"], acted, acted, done=True)
    return _html(row["locale"], acted, row["acted"])
