"""GET /v1/products/{sku}/notices: the published notices a product page shows, cacheable."""

from __future__ import annotations

import hashlib
import logging
import time
from datetime import datetime

import msgspec
from aiohttp import web

from services.advisory.lifecycle import Advisory
from services.advisory.peers.ask import Unavailable, ask
from services.advisory.public import store as store_public
from services.advisory.public.i18n import pick, reader_language
from shared import gtin, richtext
from shared import messages as m
from shared.bus import Subjects
from shared.errors import Invalid, field_error
from shared.http import NATS, POOL, json_response
from shared.messages import Kind
from shared.service import CLOCK

log = logging.getLogger(__name__)
routes = web.RouteTableDef()

# Product pages are hot: a product's categories are remembered this long per process.
CATALOG_TTL_SECONDS = 60.0
CATALOG_CACHE = web.AppKey("catalog_cache", dict[str, tuple[float, m.CatalogEntry]])
MAX_AGE = 60  # seconds a browser or CDN may keep an answer; a withdrawal shows within it
CATALOG_TIMEOUT = 1.0  # a product page must not wait long for the catalog


class Notice(msgspec.Struct, kw_only=True):
    """A published advisory as a product page shows it."""

    id: str
    kind: Kind
    agency: str
    lang: str
    title: str
    summary: str
    body_html: str
    source_url: str
    url: str
    published_at: datetime
    expires_at: datetime | None
    # The advisory's version shown, and when its latest correction went public (None: never).
    version: int = 1
    corrected_at: datetime | None = None


class Notices(msgspec.Struct, kw_only=True):
    """The notices that concern one product."""

    sku: str
    lang: str
    complete: bool
    notices: list[Notice]


@routes.get("/v1/products/{sku}/notices")
async def product_notices(request: web.Request) -> web.StreamResponse:
    """Notices about the product, by its categories or a recall of its SKU or GTIN."""
    sku = request.match_info["sku"]
    if not 0 < len(sku) <= 64:
        raise Invalid("invalid SKU", [field_error("sku", "1 to 64 characters")])
    lang, by_header = reader_language(request)
    entry = await _catalog(request, sku)
    now = request.app[CLOCK].now()
    rows = await store_public.for_product(
        request.app[POOL],
        sku,
        gtin.canonical(entry.gtin) if entry else None,
        entry.categories if entry else [],
        now,
    )
    answer = Notices(
        sku=sku, lang=lang, complete=entry is not None, notices=[notice_of(r, lang) for r in rows]
    )
    body = json_response(answer).body
    assert isinstance(body, bytes)
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    # Without the catalog only recalls by SKU are known: let caches forget that soon.
    max_age = MAX_AGE if entry is not None else 5
    headers = {"ETag": etag, "Cache-Control": f"public, max-age={max_age}"}
    if by_header:
        headers["Vary"] = "Accept-Language"
    if etag in request.headers.get("If-None-Match", ""):
        return web.Response(status=304, headers=headers)
    return web.Response(body=body, content_type="application/json", headers=headers)


def notice_of(advisory: Advisory, lang: str) -> Notice:
    """A public advisory as a notice in `lang`, else in the language it has."""
    assert advisory.published_at is not None, "only a public advisory is a notice"
    title_lang, title = pick(advisory.title, lang)
    _, body = pick(advisory.body, title_lang)
    return Notice(
        id=advisory.id,
        kind=advisory.kind,
        agency=advisory.agency_name,
        lang=title_lang,
        title=title,
        summary=richtext.summary(body),
        body_html=richtext.to_html(body),
        source_url=advisory.source_url,
        url=f"/safety/{advisory.id}?lang={title_lang}",
        published_at=advisory.published_at,
        expires_at=advisory.expires_at,
        version=advisory.version,
        corrected_at=advisory.corrected_at,
    )


async def _catalog(request: web.Request, sku: str) -> m.CatalogEntry | None:
    """The product's catalog entry from ingest, cached; None when ingest does not answer."""
    cache = request.app[CATALOG_CACHE]
    hit = cache.get(sku)
    if hit is not None and hit[0] > time.monotonic():
        return hit[1]
    try:
        entry = await ask(
            request.app[NATS],
            Subjects.INGEST_CATALOG_LOOKUP,
            m.CatalogLookup(sku=sku),
            m.CatalogEntry,
            "catalog",
            timeout=CATALOG_TIMEOUT,
        )
    except Unavailable:
        log.warning("catalog lookup unavailable; answering with recalls by SKU only")
        return None
    if len(cache) > 10_000:
        cache.clear()
    cache[sku] = (time.monotonic() + CATALOG_TTL_SECONDS, entry)
    return entry
