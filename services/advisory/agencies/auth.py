"""Who is calling: an agency by its key, or an operator."""

from __future__ import annotations

import hashlib
import secrets

import msgspec
from aiohttp import web

from services.advisory.agencies import store
from shared.errors import Forbidden, Unauthorized
from shared.http import POOL
from shared.operator import is_operator_key
from shared.service import SETTINGS


class Caller(msgspec.Struct, frozen=True):
    """The authenticated caller; `agency_id` is None for an operator."""

    agency_id: str | None

    @property
    def is_operator(self) -> bool:
        """Operators see and act on every advisory."""
        return self.agency_id is None

    def require_operator(self) -> None:
        """Raise Forbidden unless the caller is an operator."""
        if not self.is_operator:
            raise Forbidden("only operators may do this")


def new_key() -> str:
    """A fresh agency key, shown once to its owner."""
    return "ak_" + secrets.token_urlsafe(32)


def hash_key(key: str) -> str:
    """The stored form of a key: keys are long and random, so one SHA-256 suffices."""
    return hashlib.sha256(key.encode()).hexdigest()


async def authenticate(request: web.Request) -> Caller:
    """Return the caller named by `Authorization: Bearer KEY`, or raise Unauthorized."""
    header = request.headers.get("Authorization", "")
    scheme, _, key = header.partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise Unauthorized("an agency or operator key is required (Authorization: Bearer KEY)")
    key = key.strip()
    if is_operator_key(request.app[SETTINGS].operator_key, key):
        return Caller(agency_id=None)
    agency_id = await store.agency_by_key_hash(request.app[POOL], hash_key(key))
    if agency_id is None:
        raise Unauthorized("unknown key")
    return Caller(agency_id=agency_id)
