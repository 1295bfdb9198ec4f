"""What the console's and the portal's HTML pages share: headers, CSRF tokens, countdowns,
the reader's language and the zone of the times shown."""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
from typing import Any
from urllib.parse import urlencode, urlsplit

import jinja2
from aiohttp import web
from multidict import MultiDictProxy

from services.advisory.desk import i18n, times, waits
from shared.dates import is_zone
from shared.languages import N_, NAMES
from shared.service import SETTINGS


@functools.cache
def _environment(lang: str) -> jinja2.Environment:
    """The templates in `lang`, built at its first page: a page is rendered whole in it."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("services.advisory.desk", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        extensions=["jinja2.ext.i18n"],
    )
    env.install_gettext_translations(i18n.translations(lang), newstyle=True)  # type: ignore[attr-defined]
    env.globals.update(
        local_when=times.when,
        lang_names={code: NAMES[code] for code in i18n.DESK_LANGS},
        kind_names=i18n.KIND_NAMES,
        state_names=i18n.STATE_NAMES,
        series_names=i18n.SERIES_NAMES,
        step_names=i18n.STEP_NAMES,
        share_text=i18n.share_text,
        wait_says=functools.partial(waits.says, words=i18n.translations(lang)),
        # An advisory's title in the page's language where it has one, as its agency wrote it.
        title_of=lambda advisory: advisory.title.get(lang) or advisory.headline,
    )
    return env


# The query parameter of the language switch (`lang` already picks the mail preview's).
SWITCH = "ui"
YEAR = 365 * 24 * 3600

# Pages with embargoed words: never cached, never framed, scripts only with the nonce.
CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:;"
    " script-src 'nonce-{nonce}'; form-action 'self'; frame-ancestors 'none';"
    " base-uri 'none'"
)


def html(
    request: web.Request,
    template: str,
    status: int = 200,
    *,
    zone: str | None = None,
    **context: Any,
) -> web.Response:
    """A private page of templates/ in the reader's language, its times in `zone` (default:
    the operators' ANSHIN_CONSOLE_TIMEZONE) with UTC beside, a fresh nonce for its script."""
    nonce, picked = secrets.token_urlsafe(16), request.query.get(SWITCH, "")
    lang = reader_language(request)
    if zone is None:
        zone = request.app[SETTINGS].console_timezone
    zone = zone if is_zone(zone) else "UTC"
    with times.zone_of_page(zone):
        text = (
            _environment(lang)
            .get_template(template)
            .render(lang=lang, nonce=nonce, zone=zone, switch=_switch_links(request), **context)
        )
    headers = {
        "Cache-Control": "private, no-store",
        "Content-Security-Policy": CSP.format(nonce=nonce),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
    }
    response = web.Response(text=text, status=status, content_type="text/html", headers=headers)
    if picked in i18n.DESK_LANGS:  # the reader's pick, remembered by both desks
        response.set_cookie(
            i18n.COOKIE, picked, max_age=YEAR, path="/", httponly=True, samesite="Lax",
            secure=request.secure,
        )  # fmt: skip
    return response


def reader_language(request: web.Request) -> str:
    """The language of this request's page: the switch's, the cookie's, the browser's."""
    picked = request.query.get(SWITCH, "") or request.cookies.get(i18n.COOKIE, "")
    return i18n.reader_language(picked, request.headers.get("Accept-Language", ""))


def _switch_links(request: web.Request) -> dict[str, str]:
    """Each desk language's link to this page in it: only its query, so that a page never
    repeats its own path (a refusal names nothing); a posted form's page: its desk's home."""
    if request.method != "GET":
        path, query = f"/{request.path.split('/')[1]}", {}
    else:
        path, query = "", {k: v for k, v in request.query.items() if k != SWITCH}
    return {lang: f"{path}?{urlencode(query | {SWITCH: lang})}" for lang in i18n.DESK_LANGS}


def csrf_token(request: web.Request, session: str) -> str:
    """The form token of a session (a portal session's id, or the operators' key): the HMAC
    of its hash. Stateless: it changes with the session, and another site can neither read
    nor guess it.
    """
    secret = request.app[SETTINGS].secret_key.encode()
    digest = hashlib.sha256(session.encode()).hexdigest()
    return hmac.new(secret, f"csrf:{digest}".encode(), hashlib.sha256).hexdigest()


def same_origin(request: web.Request) -> bool:
    """False when the browser says the request comes from another site."""
    origin = request.headers.get("Origin")
    if origin is None or origin == "null":
        return origin is None
    return urlsplit(origin).netloc == request.host


async def checked_form(request: web.Request, session: str) -> dict[str, str] | None:
    """The posted form, if it comes from our own page of this session; else None."""
    form = await checked_post(request, session)
    if form is None:
        return None
    return {key: value for key, value in form.items() if isinstance(value, str)}


async def checked_post(
    request: web.Request, session: str
) -> MultiDictProxy[str | bytes | bytearray | web.FileField] | None:
    """The posted form with its files, if it comes from our own page of this session."""
    form = await request.post()
    token = str(form.get("csrf", ""))
    expected = csrf_token(request, session)
    # As bytes: compare_digest refuses str with non-ASCII characters, which a form can carry.
    if not same_origin(request) or not hmac.compare_digest(token.encode(), expected.encode()):
        return None
    return form


def refused(request: web.Request) -> web.Response:
    """The answer to a form without our token, or from another site."""
    message = N_("This form has expired or came from another site: reload the page and try again.")
    return html(request, "desk_message.html.j2", 403, heading=N_("Refused"), message=message)
