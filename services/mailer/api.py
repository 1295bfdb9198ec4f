"""Mailer's HTTP API: unsubscribe (RFC 8058 one-click) and the operators' mail preview."""

from __future__ import annotations

import hmac
from datetime import timedelta
from typing import NamedTuple

import jinja2
import msgspec
from aiohttp import web

from services.mailer import store, suppressions, tokens
from services.mailer.i18n import STRINGS, SUPPORTED, language_for
from services.mailer.render import Delivery, compose, parse
from services.mailer.sender import claim_config, unsubscribe_url
from shared.db import unit_of_work
from shared.errors import Invalid, NotFound, Unauthorized, field_error
from shared.http import POOL, json_response
from shared.service import CLOCK, SETTINGS

routes = web.RouteTableDef()
# The routes that take no key (a link's token is no key): the key throttle leaves them alone.
PUBLIC = {("GET", "/u/{token}"), ("POST", "/u/{token}")}

_page = jinja2.Environment(
    loader=jinja2.PackageLoader("services.mailer", "templates"), autoescape=True
).get_template("unsubscribe.html.j2")

# The stand-in customer of a preview, in each language.
_SAMPLE = {
    "ja": ("山田 花子", "モバイルバッテリー 10000mAh"),
    "en": ("Jane Doe", "Power bank 10000 mAh"),
    "fr": ("Camille Martin", "Batterie externe 10000 mAh"),
}


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
        raise NotFound("unknown or invalid unsubscribe link")
    async with unit_of_work(request.app[POOL], transaction=False) as conn:
        row = await store.contact(conn, link.customer_id)
    if row is None:
        raise NotFound("unknown or invalid unsubscribe link")
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


def _html(lang: str, who: _Subscriber, *, done: bool = False) -> web.Response:
    # A link of an earlier address never shows the current one, not even masked.
    shown = "" if who.moved or who.stale else _masked(who.email)
    page = _page.render(
        lang=lang, t=STRINGS[lang], email=shown, done=done, moved=who.moved, stale=who.stale
    )
    return web.Response(text=page, content_type="text/html")


@routes.get("/u/{token}")
async def unsubscribe_page(request: web.Request) -> web.Response:
    """A page with one button; GET never unsubscribes (mail scanners follow links)."""
    who = await _subscriber(request)
    return _html(who.lang, who, done=who.suppressed)


@routes.post("/u/{token}")
async def unsubscribe(request: web.Request) -> web.Response:
    """Unsubscribe at once (RFC 8058 one-click, or the page's button)."""
    who = await _subscriber(request)
    if who.moved or who.stale:
        # Whoever reads the old address may not unsubscribe the customer's new one.
        return _html(who.lang, who)
    if not await suppressions.unsubscribe(request.app[POOL], who.customer_id, who.email):
        # The address changed since the link was checked: act on nothing.
        return _html(who.lang, who._replace(moved=True))
    return _html(who.lang, who, done=True)


def _operator(request: web.Request) -> None:
    key = request.app[SETTINGS].operator_key
    given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if not key or not hmac.compare_digest(given.encode(), key.encode()):
        raise Unauthorized("an operator key is required (Authorization: Bearer KEY)")


@routes.get("/v1/preview/{advisory_id}")
async def preview(request: web.Request) -> web.Response:
    """The mail of an advisory as a customer would receive it, for operators."""
    _operator(request)
    lang = request.query.get("lang", "en")
    if lang not in SUPPORTED:
        raise Invalid("unsupported language", [field_error("lang", f"one of {SUPPORTED}")])
    settings = request.app[SETTINGS]
    async with unit_of_work(request.app[POOL], transaction=False) as conn:
        row = await store.advisory(conn, request.match_info["advisory_id"])
    if row is None:
        raise NotFound("no published advisory with this id")
    name, product = _SAMPLE[lang]
    delivery = Delivery(
        advisory_id=row["advisory_id"],
        customer_id="preview",
        email="customer@example.com",
        name=name,
        locale=lang,
        agency_name=row["agency_name"],
        title=msgspec.json.decode(row["title"]),
        body=msgspec.json.decode(row["body"]),
        source_url=row["source_url"],
        purchases=[{"order_id": "A-0001", "sku": "SAMPLE", "title": product}],
        kind=row["kind"],
        page_url=f"{claim_config(settings).public_url}/safety/{row['advisory_id']}",
    )
    _, raw = compose(
        [delivery],
        sender=settings.mail_from,
        unsubscribe_url=unsubscribe_url(settings, "preview", delivery.email),
        list_id="preview",
    )
    mail = parse(raw)
    html = mail.get_body(("html",))
    text = mail.get_body(("plain",))
    assert html is not None and text is not None
    if request.query.get("format") == "html":
        return web.Response(text=html.get_content(), content_type="text/html")
    return json_response(
        {
            "advisory_id": row["advisory_id"],
            "lang": lang,
            "withdrawn": row["withdrawn_at"] is not None,
            "subject": str(mail["Subject"]),
            "headers": {k: str(v) for k, v in mail.items()},
            "text": text.get_content(),
            "html": html.get_content(),
        }
    )
