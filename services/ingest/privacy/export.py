"""Access: one JSON document of everything Anshin holds of a customer, gathered over the bus."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import msgspec
from nats.aio.client import Client
from nats.errors import NoRespondersError
from nats.errors import TimeoutError as NatsTimeout

from services.ingest.store import privacy as store
from shared import messages as m
from shared.bus import Subjects
from shared.clock import Clock
from shared.db import unit_of_work
from shared.errors import AnshinError, field_error

TIMEOUT_SECONDS = 5.0
_part = msgspec.json.Decoder(m.ExportPart)


class Unavailable(AnshinError):
    """A service holding part of the data did not answer: an export without it would lie."""

    status = 503


async def _ask(nc: Client, subject: str, who: str, ids: list[str]) -> m.ExportPart:
    try:
        reply = await nc.request(
            subject, m.encode(m.ExportRequest(customer_ids=ids)), timeout=TIMEOUT_SECONDS
        )
        return _part.decode(reply.data)
    except NoRespondersError as exc:
        raise Unavailable(
            f"the {who} is not available", [field_error(who, "no responder")]
        ) from exc
    except (NatsTimeout, TimeoutError) as exc:
        raise Unavailable(
            f"the {who} did not answer in time", [field_error(who, "timeout")]
        ) from exc
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise Unavailable(
            f"the {who} gave an unreadable answer", [field_error(who, str(exc))]
        ) from exc


async def export(pool: asyncpg.Pool, nc: Client, customer_id: str, clock: Clock) -> dict[str, Any]:
    """The customer's contact, orders as normalized, derived categories and safety mails, for
    the customer and the ids the shop links to it by e-mail address."""
    async with unit_of_work(pool, transaction=False) as conn:
        ids = await store.linked_customers(conn, customer_id)
        orders = await store.customer_orders(conn, ids)
    matcher, mailer = await asyncio.gather(
        _ask(nc, Subjects.MATCHER_EXPORT, "matcher", ids),
        _ask(nc, Subjects.MAILER_EXPORT, "mailer", ids),
    )
    return {
        "customer_id": customer_id,
        "customer_ids": ids,
        "generated_at": clock.now(),
        "contact": mailer.sections.get("contacts", []),
        "orders": orders,
        "categories": matcher.sections.get("categories", []),
        "purchases": matcher.sections.get("purchases", []),
        "mails": mailer.sections.get("mails", []),
        "suppressions": mailer.sections.get("suppressions", []),
    }
