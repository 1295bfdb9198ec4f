"""The JSON API of advisories for their agencies and operators.

`ROUTES` are its routes (`advisories`: submit, read, amend, withdraw; `owner`: preview,
audience, report; `evidence`: the signed export and its public key; `agency`: the calling
agency's own settings); `schemas` holds the shapes of its answers, for the OpenAPI
document.
"""

from services.advisory.api import advisories, agency, evidence, owner

ROUTES = (advisories.routes, owner.routes, evidence.routes, agency.routes)
signing = evidence.signing

__all__ = ["ROUTES", "signing"]
