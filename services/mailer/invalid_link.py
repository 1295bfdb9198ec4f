"""A link of a mail that names nothing (cut short, altered, forged): what its reader is told.

A browser gets a page in the reader's language, as the link's own pages are; a client that
asks for anything else gets the JSON error every API gives.
"""

from __future__ import annotations

import jinja2
from aiohttp import web

from shared.errors import NotFound
from shared.languages import FALLBACK, from_accept_language
from shared.mail.i18n import STRINGS

_page = jinja2.Environment(
    loader=jinja2.PackageLoader("services.mailer", "templates"), autoescape=True
).get_template("link_invalid.html.j2")


def invalid_link(request: web.Request, error: str) -> NotFound | web.HTTPNotFound:
    """The 404 to raise for a link that names nothing."""
    if "text/html" not in request.headers.get("Accept", ""):
        return NotFound(error)
    lang = from_accept_language(request.headers.get("Accept-Language", "")) or FALLBACK
    return web.HTTPNotFound(
        text=_page.render(lang=lang, t=STRINGS[lang]),
        content_type="text/html",
        headers={"Cache-Control": "no-store", "Content-Language": lang},
    )
