"""Public pages: /safety lists published advice by category, /safety/{id} shows one."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import jinja2
from aiohttp import web

from services.advisory.public import store as store_public
from services.advisory.public.i18n import NAMES, reader_language, words
from services.advisory.public.notices import MAX_AGE, notice_of
from shared import categories
from shared.dates import USUAL_ZONE, local_date
from shared.http import POOL
from shared.service import CLOCK, SETTINGS

routes = web.RouteTableDef()

_env = jinja2.Environment(
    loader=jinja2.PackageLoader("services.advisory.public", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
)


def day(at: datetime, lang: str, zone: str = "") -> str:
    """The date of `at` as a reader of `lang` reads it: in `zone`, else the zone the language is
    usually read in (a Japanese reader's day begins nine hours before UTC's)."""
    return local_date(at, zone or USUAL_ZONE.get(lang, "UTC"), lang)


_env.globals["day"] = day


def render(name: str, lang: str, zone: str = "", **context: Any) -> str:
    """A page of templates/ in `lang`, its dates in `zone` (see `day`)."""
    page = _env.get_template(name)
    return page.render(lang=lang, zone=zone, t=words(lang), names=NAMES, **context)


def _page(
    request: web.Request, name: str, lang: str, status: int = 200, **context: Any
) -> web.Response:
    html = render(name, lang, request.app[SETTINGS].public_timezone, **context)
    headers = {"Cache-Control": f"public, max-age={MAX_AGE}", "Vary": "Accept-Language"}
    return web.Response(text=html, content_type="text/html", status=status, headers=headers)


@routes.get("/safety")
async def safety(request: web.Request) -> web.Response:
    """Every published advice, grouped by the product categories it concerns."""
    lang, _ = reader_language(request)
    rows = await store_public.published(request.app[POOL], request.app[CLOCK].now())
    sections: dict[str, list[Any]] = {}
    recalls: list[Any] = []
    for advisory in rows:
        notice = notice_of(advisory, lang)
        concerns = advisory.concerns
        if concerns.skus or concerns.gtins:  # names the products themselves: a recall
            recalls.append(notice)
            continue
        for code in sorted(set(concerns.categories)):
            sections.setdefault(categories.name(code, lang), []).append(notice)
    ordered = ([(words(lang)["recall"], recalls)] if recalls else []) + sorted(sections.items())
    return _page(request, "list.html.j2", lang, sections=ordered)


@routes.get("/safety/{advisory_id}")
async def safety_one(request: web.Request) -> web.Response:
    """One published advice; withdrawn or expired is gone, embargoed is as unknown."""
    lang, _ = reader_language(request)
    view, advisory = await store_public.public_one(
        request.app[POOL], request.match_info["advisory_id"], request.app[CLOCK].now()
    )
    if advisory is None:
        message = words(lang)["gone" if view == "gone" else "missing"]
        status = 410 if view == "gone" else 404
        return _page(request, "message.html.j2", lang, status=status, message=message)
    return _page(request, "one.html.j2", lang, n=notice_of(advisory, lang))
