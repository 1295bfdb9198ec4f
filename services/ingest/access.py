"""Who may write what to ingest: a channel its own orders, a catalog key the catalog.

A key reads `ck_<id>_<secret>`: the id (8 characters) is public, shown in listings, so that
failures can be counted per key without knowing it; only a SHA-256 hash of the whole key
is stored. The operator key (`ANSHIN_OPERATOR_KEY`) may write anything:
the catalog, and the orders and events of any channel, each record naming its own.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from typing import Literal

import msgspec
from aiohttp import web

from services.ingest import store
from services.ingest.formats import Format, Indexed
from services.ingest.model import Order, OrderEvent
from shared.db import unit_of_work
from shared.errors import Forbidden, Invalid, Unauthorized, field_error
from shared.http import POOL
from shared.operator import is_operator_key
from shared.service import SETTINGS

Kind = Literal["channel", "catalog", "operator"]
PREFIX = "ck_"
ID_LENGTH = 8
# A channel's name is kept with every order and names it in URLs: plain, short, no spaces.
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
CATALOG_ONLY = (
    "this key writes the catalog only; orders are written with their channel's key"
    " (`anshin channel create NAME`)"
)


class Writer(msgspec.Struct, frozen=True):
    """The authenticated writer: a channel, a catalog key, or an operator (name "")."""

    kind: Kind
    name: str = ""


def new_key() -> tuple[str, str]:
    """A fresh key and its public id; the key is shown once to its owner."""
    key_id = secrets.token_hex(ID_LENGTH // 2)
    return f"{PREFIX}{key_id}_{secrets.token_urlsafe(32)}", key_id


def hash_key(key: str) -> str:
    """The stored form of a key: keys are long and random, so one SHA-256 suffices."""
    return hashlib.sha256(key.encode()).hexdigest()


def check_name(name: str) -> str:
    """A writer's name as given, or Invalid naming what is wrong with it."""
    if not NAME.match(name):
        rule = "1 to 64 letters, digits, '.', '_' or '-', the first a letter or a digit"
        raise Invalid(f"{name!r} cannot name a channel: {rule}", [field_error("name", rule)])
    return name


async def authenticate(request: web.Request) -> Writer:
    """The writer named by `Authorization: Bearer KEY`, or Unauthorized."""
    scheme, _, key = request.headers.get("Authorization", "").partition(" ")
    key = key.strip()
    if scheme.lower() != "bearer" or not key:
        raise Unauthorized(
            "a channel, catalog or operator key is required (Authorization: Bearer KEY)",
            [field_error("Authorization", "missing")],
        )
    if is_operator_key(request.app[SETTINGS].operator_key, key):
        return Writer("operator")
    async with unit_of_work(request.app[POOL], transaction=False) as conn:
        found = await store.writer_by_key_hash(conn, hash_key(key))
    if found is None:
        raise Unauthorized("unknown key", [field_error("Authorization", "no such key")])
    name, kind = found
    return Writer("catalog" if kind == "catalog" else "channel", name)


def require_catalog(writer: Writer) -> None:
    """Forbidden unless the writer may write the catalog (a catalog key, an operator)."""
    if writer.kind == "channel":
        raise Forbidden(
            f"the key of channel {writer.name!r} may not write the catalog: use a catalog key"
            " (`anshin channel create NAME --catalog`) or the operator key",
            [field_error("Authorization", "a channel key writes its own orders only")],
        )


def default_channel(writer: Writer, fmt: Format) -> str:
    """The channel of a record that names none: the key's, or else the format's own."""
    if writer.kind == "catalog":
        raise Forbidden(CATALOG_ONLY, [field_error("Authorization", "a catalog key")])
    return writer.name if writer.kind == "channel" else fmt.channel


def require_channel(writer: Writer, channel: str) -> None:
    """Forbidden unless the writer may write the orders of `channel`."""
    if writer.kind == "catalog":
        raise Forbidden(CATALOG_ONLY, [field_error("Authorization", "a catalog key")])
    if writer.kind == "channel" and channel != writer.name:
        raise Forbidden(_other(writer), [field_error("channel", _not_yours(writer, channel))])


def claim(writer: Writer, records: Indexed) -> None:
    """Refuse the whole request when a record names a channel that is not the key's."""
    if writer.kind != "channel":
        return
    foreign = [
        {"index": index, **field_error("channel", _not_yours(writer, r.channel))}
        for index, r in records
        if isinstance(r, Order | OrderEvent) and r.channel != writer.name
    ]
    if foreign:
        raise Forbidden(_other(writer) + "; nothing of this request was written", foreign)


def _other(writer: Writer) -> str:
    return f"this key writes the orders of channel {writer.name!r} only"


def _not_yours(writer: Writer, channel: str) -> str:
    return f"{channel!r} is not this key's channel ({writer.name!r})"
