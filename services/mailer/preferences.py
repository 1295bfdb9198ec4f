"""What a customer may choose on the preference page (/u/{token}): each family of advice on or
off, or stop all mail. A family turned off is honoured by the next claim (claim.py declines
its deliveries: suppressed, `suppressed_by` 'preference'); stop all is an unsubscribe.

A POST is read strictly: RFC 8058's one-click (`List-Unsubscribe=One-Click`) and a POST
without a choice (the page before preferences had one bare button) stop all; `action=save`
keeps the families whose boxes are ticked; anything else is refused by field.
"""

from __future__ import annotations

import enum
from datetime import datetime

import asyncpg
import msgspec
from aiohttp.web_request import FileField
from multidict import MultiDictProxy

from services.mailer import store
from services.mailer.store import preferences
from shared.db import unit_of_work
from shared.errors import Invalid, field_error

# The families a customer may turn off; a recall of a product they own always goes.
FAMILIES = ("short_term", "long_term", "combination", "disaster")
ON = "on"  # a ticked box's value


class Action(enum.Enum):
    """What a POST to the page asks."""

    STOP = "stop"
    SAVE = "save"


class Choice(msgspec.Struct, frozen=True):
    """One POST read: stop all, or save with these families turned off."""

    action: Action
    off: tuple[str, ...] = ()


def read(form: MultiDictProxy[str | bytes | bytearray | FileField]) -> Choice:
    """The customer's choice in a POSTed form, or Invalid naming the field."""
    if form.get("List-Unsubscribe") == "One-Click" or "action" not in form:
        return Choice(Action.STOP)
    problems = []
    action = form.get("action")
    if action not in ("stop", "save"):
        problems.append(field_error("action", "'save' or 'stop'"))
    for name in form:
        if name in FAMILIES and form.getall(name) != [ON]:
            problems.append(field_error(name, f"once, {ON!r} when ticked"))
        elif name not in FAMILIES and name not in ("action", "List-Unsubscribe"):
            problems.append(field_error(name, "not a field of this form"))
    if problems:
        raise Invalid("not a choice this page offers", problems)
    if action == "stop":
        return Choice(Action.STOP)
    return Choice(Action.SAVE, tuple(f for f in FAMILIES if f not in form))


async def current(pool: asyncpg.Pool, email: str) -> list[str]:
    """The families this address turned off."""
    async with unit_of_work(pool, transaction=False) as conn:
        return await preferences.turned_off(conn, email)


async def save(
    pool: asyncpg.Pool, customer_id: str, email: str, off: tuple[str, ...], now: datetime
) -> bool:
    """Keep the families turned off, if the address is still the customer's."""
    async with unit_of_work(pool) as conn:
        # Locked, so that the address cannot change between the link's check and this.
        if await store.locked_email(conn, customer_id) != email:
            return False
        await preferences.save_preferences(conn, email, off, now)
    return True
