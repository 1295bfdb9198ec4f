"""Mailer's SQL: contacts, advisories, the delivery ledger, send rates and suppressions.

Every function takes the connection of the use case's unit of work (`shared.db.unit_of_work`).
A claim and its answers use the modules `ledger`, `rates` and `fence` by name.
"""

from services.mailer.store.advisories import (
    advisory,
    cancel_event,
    cancel_waiting,
    save_advisory,
    withdraw,
)
from services.mailer.store.contacts import contact, locked_email, upsert_contact, upsert_contacts
from services.mailer.store.deliveries import add_deliveries, reach, waiting_by_domain, waits
from services.mailer.store.suppressions import (
    lift_suppression,
    list_suppressions,
    requeue_suppressed,
    suppress,
    suppress_bounced,
    suppress_waiting,
    suppression_counts,
    suppression_reason,
)

__all__ = [
    "add_deliveries",
    "advisory",
    "cancel_event",
    "cancel_waiting",
    "contact",
    "lift_suppression",
    "list_suppressions",
    "locked_email",
    "reach",
    "requeue_suppressed",
    "save_advisory",
    "suppress",
    "suppress_bounced",
    "suppress_waiting",
    "suppression_counts",
    "suppression_reason",
    "upsert_contact",
    "upsert_contacts",
    "waiting_by_domain",
    "waits",
    "withdraw",
]
