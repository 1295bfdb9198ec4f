"""The advisory's life: what an agency submits, the stored advisory, the embargo rule.

Others use the names below, and the modules `embargo` (the rule, pure), `store` (SQL of
advisories and versions), `amendment` (a draft changed, a published advisory corrected),
`publication` (publish what is due), `keeper` (the background task that does it) and
`preview` (the mail as a customer would get it).
"""

from services.advisory.lifecycle.advisory import STATES, Advisory, State, Version
from services.advisory.lifecycle.submission import AdvisoryIn, AdvisoryPatch, amend, validate

__all__ = [
    "STATES",
    "Advisory",
    "AdvisoryIn",
    "AdvisoryPatch",
    "State",
    "Version",
    "amend",
    "validate",
]
