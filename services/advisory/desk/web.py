"""What the console's and the portal's HTML pages share: headers, CSRF tokens, countdowns."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any
from urllib.parse import urlsplit

import jinja2
from aiohttp import web
from multidict import MultiDictProxy

from shared.service import SETTINGS

_env = jinja2.Environment(
    loader=jinja2.PackageLoader("services.advisory.desk", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
)

# Pages with embargoed words: never cached, never framed, scripts only with the nonce.
CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:;"
    " script-src 'nonce-{nonce}'; form-action 'self'; frame-ancestors 'none';"
    " base-uri 'none'"
)


def html(request: web.Request, template: str, status: int = 200, **context: Any) -> web.Response:
    """A private page of templates/, with a fresh nonce for its inline script."""
    nonce = secrets.token_urlsafe(16)
    text = _env.get_template(template).render(lang="en", nonce=nonce, **context)
    headers = {
        "Cache-Control": "private, no-store",
        "Content-Security-Policy": CSP.format(nonce=nonce),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
    }
    return web.Response(text=text, status=status, content_type="text/html", headers=headers)


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
    message = "This form has expired or came from another site: reload the page and try again."
    return html(request, "desk_message.html.j2", 403, heading="Refused", message=message)
