"""The JSON API of advisories for their agencies and operators.

`ROUTES` are its routes (`advisories`: submit, read, amend, withdraw; `owner`: preview,
audience, report); `schemas` holds the shapes of its answers, for the OpenAPI document.
"""

from services.advisory.api import advisories, owner

ROUTES = (advisories.routes, owner.routes)

__all__ = ["ROUTES"]
