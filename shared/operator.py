"""The operators' key: one check, in constant time, for every service.

Operators present `ANSHIN_OPERATOR_KEY` as `Authorization: Bearer KEY`, or as the password
of `Basic` (a browser's address bar cannot send a Bearer key), or in a sign-in form. An
empty setting is no key at all: nobody is an operator then. Each service passes its own
setting in, so that what it reads of the secrets shows where it reads it.
"""

from __future__ import annotations

import hmac

from aiohttp import web

from shared.errors import Unauthorized, field_error
from shared.throttle import given_key

REQUIRED = "an operator key is required (Authorization: Bearer KEY)"


def is_operator_key(operator_key: str, key: str) -> bool:
    """Whether `key` is the operators' key `operator_key` (never when either is empty)."""
    # As bytes: compare_digest refuses str with non-ASCII characters, which anyone can send.
    return bool(operator_key and key) and hmac.compare_digest(key.encode(), operator_key.encode())


def require_operator(request: web.Request, operator_key: str) -> str:
    """The operators' key from the request's `Authorization`, or Unauthorized."""
    key = given_key(request.headers.get("Authorization", ""))
    if not is_operator_key(operator_key, key):
        problem = "missing" if not key else "not the operator key"
        raise Unauthorized(REQUIRED, [field_error("Authorization", problem)])
    return key
