"""Domain errors, raised deep and translated once at the HTTP edge.

AnshinError            base; carries a message and a list of details
├── Invalid (400)      bad input; details name each field and its problem
├── Unauthorized (401) no key, or a key that is not known
├── Forbidden (403)    a known key that may not touch this resource
├── NotFound (404)
├── Conflict (409)     the resource is in a state that forbids the change
└── TooLarge (413)     the body exceeds the configured limit
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "AnshinError",
    "Conflict",
    "Forbidden",
    "Invalid",
    "NotFound",
    "TooLarge",
    "Unauthorized",
    "field_error",
]


def field_error(field: str, problem: str) -> dict[str, str]:
    """One entry of an error's details: which field, and what is wrong with it."""
    return {"field": field, "problem": problem}


class AnshinError(Exception):
    """Base of every error that becomes an HTTP answer."""

    status = 500

    def __init__(self, message: str, details: list[Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or []


class Invalid(AnshinError):
    """The input is malformed; `details` names the fields."""

    status = 400


class Unauthorized(AnshinError):
    """No credentials, or credentials that are not known."""

    status = 401


class Forbidden(AnshinError):
    """Credentials that may not act on this resource."""

    status = 403


class NotFound(AnshinError):
    """No such resource."""

    status = 404


class Conflict(AnshinError):
    """The resource's state forbids the change."""

    status = 409


class TooLarge(AnshinError):
    """The request body is larger than allowed."""

    status = 413
