"""An agency's name, as customers read it in every mail and on every published advisory."""

from __future__ import annotations

from shared.errors import Invalid, field_error
from shared.text import control_in

MAX_AGENCY_NAME = 200


def agency_name(name: str) -> str:
    """An agency's name as customers read it: one line of at most MAX_AGENCY_NAME
    characters (it is in every mail and every published advisory); Invalid otherwise."""
    name = name.strip()
    problem = ""
    if not name or len(name) > MAX_AGENCY_NAME:
        problem = f"1 to {MAX_AGENCY_NAME} characters"
    elif found := control_in(name):
        problem = f"must be one line without control characters ({found})"
    if problem:
        raise Invalid(f"invalid agency name: {problem}", [field_error("name", problem)])
    return name
