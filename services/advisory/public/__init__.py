"""What anyone may read: product notices, the /safety pages, the OpenAPI document.

`ROUTES` are its routes, `unsecured()` the routes of the whole service that take no key
(from the OpenAPI document), `CATALOG_CACHE` the notices' cache of ingest's catalog.
"""

from services.advisory.public import notices, openapi, pages
from services.advisory.public.notices import CATALOG_CACHE
from services.advisory.public.openapi import unsecured

ROUTES = (notices.routes, pages.routes, openapi.routes)

__all__ = ["CATALOG_CACHE", "ROUTES", "unsecured"]
