"""A catalog entry checked as the API and `anshin catalog load` take it in."""

from __future__ import annotations

from services.ingest import categories
from services.ingest.model import CatalogItem, Rejection
from shared import gtin
from shared.errors import field_error


def check(item: CatalogItem) -> CatalogItem | Rejection:
    """The entry with its GTIN as GTIN-14, or each of its fields that is wrong."""
    problems = categories.problems(item.categories)
    if item.gtin is not None and not item.gtin.strip():
        item.gtin = None  # a blank column gives none
    if item.gtin is not None:
        try:
            item.gtin = gtin.normalize(item.gtin)
        except gtin.InvalidGtin as exc:
            problems.append(field_error("gtin", str(exc)))
    return Rejection(problems) if problems else item
