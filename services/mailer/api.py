"""Mailer's HTTP API: the preference page with its one-click unsubscribe (RFC 8058), and the
operators' mail preview."""

from __future__ import annotations

from datetime import timedelta
from typing import NamedTuple

import jinja2
import msgspec
from aiohttp import web

from services.mailer import preferences, store, suppressions, tokens
from services.mailer.invalid_link import invalid_link
from services.mailer.page_words import WORDS
from services.mailer.sender import unsubscribe_url
from shared.db import unit_of_work
from shared.errors import Invalid, NotFound, field_error
from shared.http import POOL, json_response
from shared.mail.i18n import STRINGS, SUPPORTED, language_for
from shared.mail.preview import SAMPLE_EMAIL, Advice
from shared.mail.preview import preview as preview_of
from shared.operator import require_operator
from shared.service import CLOCK, SETTINGS

routes = web.RouteTableDef()
# The routes that take no key (a link's token is no key): the key throttle leaves them alone.
PUBLIC = {("GET", "/u/{token}"), ("POST", "/u/{token}")}

_page = jinja2.Environment(
    loader=jinja2.PackageLoader("services.mailer", "templates"), autoescape=True
).get_template("unsubscribe.html.j2")


def _masked(email: str) -> str:
    """Enough of an address to recognize it, not enough to harvest it from a link."""
    local, _, domain = email.partition("@")
    return f"{local[:2]}***@{domain}"


# How long a two-part link (mailed before links named their address) still acts after such
# links were retired: twice the 30 days that CAN-SPAM asks an opt-out link to keep working.
LEGACY_LINK_DAYS = 60


class _Subscriber(NamedTuple):
    """Whom an unsubscribe link names, as the mailer knows them now."""

    customer_id: str
    email: str
    lang: str
    suppressed: bool
    moved: bool  # the link was mailed to an address the customer has left since
    stale: bool = False  # a two-part link that can no longer be tied to the current address


async def _subscriber(request: web.Request) -> _Subscriber:
    secret = request.app[SETTINGS].secret_key
    link = tokens.verify(secret, request.match_info["token"])
    if link is None:
        raise invalid_link(request, "unknown or invalid unsubscribe link")
    async with unit_of_work(request.app[POOL], transaction=False) as conn:
        row = await store.contact(conn, link.customer_id)
    if row is None:
        raise invalid_link(request, "unknown or invalid unsubscribe link")
    lang = language_for(row["locale"])
    if link.address is None:
        # A two-part link names no address: it acts only on one the customer has held since
        # before such links were retired (it may have been mailed there), and not for ever.
        expired = row["retired"] + timedelta(days=LEGACY_LINK_DAYS) < request.app[CLOCK].now()
        moved = row["email_since"] is not None
        return _Subscriber(
            link.customer_id, row["email"], lang, row["suppressed"], moved, expired and not moved
        )
    current = tokens.address(secret, link.customer_id, row["email"])
    return _Subscriber(
        link.customer_id, row["email"], lang, row["suppressed"], link.address != current
    )


def _html(
    lang: str, who: _Subscriber, *, done: bool = False, off: list[str] | None = None,
    saved: bool = False,
) -> web.Response:  # fmt: skip
    # A link of an earlier address never shows the current one, not even masked.
    shown = "" if who.moved or who.stale else _masked(who.email)
    page = _page.render(
        lang=lang, t=STRINGS[lang], w=WORDS[lang], email=shown, done=done, moved=who.moved,
        stale=who.stale, families=preferences.FAMILIES, off=off or [], saved=saved,
    )  # fmt: skip
    return web.Response(text=page, content_type="text/html")


@routes.get("/u/{token}")
async def preference_page(request: web.Request) -> web.Response:
    """The families of advice, each on or off, and "stop all"; GET never changes anything
    (mail scanners follow links)."""
    who = await _subscriber(request)
    if who.suppressed or who.moved or who.stale:
        return _html(who.lang, who, done=who.suppressed)
    return _html(who.lang, who, off=await preferences.current(request.app[POOL], who.email))


@routes.post("/u/{token}")
async def choose(request: web.Request) -> web.Response:
    """Save the families chosen, or stop all at once (RFC 8058 one-click, the page's button)."""
    who = await _subscriber(request)
    choice = preferences.read(await request.post())
    if who.moved or who.stale:
        # Whoever reads the old address may not change the customer's new one.
        return _html(who.lang, who)
    pool = request.app[POOL]
    if choice.action is preferences.Action.SAVE and not who.suppressed:
        now = request.app[CLOCK].now()
        if not await preferences.save(pool, who.customer_id, who.email, choice.off, now):
            return _html(who.lang, who._replace(moved=True))
        return _html(who.lang, who, off=list(choice.off), saved=True)
    if choice.action is preferences.Action.SAVE:
        return _html(who.lang, who, done=True)  # all stopped already: nothing to choose
    if not await suppressions.unsubscribe(pool, who.customer_id, who.email):
        # The address changed since the link was checked: act on nothing.
        return _html(who.lang, who._replace(moved=True))
    return _html(who.lang, who, done=True)


@routes.get("/v1/preview/{advisory_id}")
async def preview(request: web.Request) -> web.Response:
    """The mail of an advisory as a customer would receive it, for operators."""
    require_operator(request, request.app[SETTINGS].operator_key)
    lang = request.query.get("lang", "en")
    if lang not in SUPPORTED:
        raise Invalid("unsupported language", [field_error("lang", f"one of {SUPPORTED}")])
    settings = request.app[SETTINGS]
    async with unit_of_work(request.app[POOL], transaction=False) as conn:
        row = await store.advisory(conn, request.match_info["advisory_id"])
    if row is None:
        raise NotFound("no published advisory with this id")
    advice = Advice(
        advisory_id=row["advisory_id"],
        agency_name=row["agency_name"],
        kind=row["kind"],
        title=msgspec.json.decode(row["title"]),
        body=msgspec.json.decode(row["body"]),
        source_url=row["source_url"],
    )
    mail = preview_of(
        advice,
        lang,
        sender=settings.mail_from,
        public_url=settings.public_url,
        unsubscribe_url=unsubscribe_url(settings, "preview", SAMPLE_EMAIL),
        mailer_url=settings.mailer_public_url,
    )
    if request.query.get("format") == "html":
        return web.Response(text=mail.html, content_type="text/html")
    return json_response(
        {
            "advisory_id": row["advisory_id"],
            "lang": lang,
            "withdrawn": row["withdrawn_at"] is not None,
            "subject": mail.subject,
            "headers": mail.headers,
            "text": mail.text,
            "html": mail.html,
        }
    )
