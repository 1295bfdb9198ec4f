"""The embargo rule, whole and pure: when an advisory is visible, to whom, when it publishes.

An advisory is born `embargoed`. Until `embargo_until` only its agency and operators may
see it: they read it, amend it, preview its mail and ask how many it would reach, and
nothing of it leaves the service (not the bus, not a public page, not a log line). From
`embargo_until` it is due: the keeper publishes it (`published`, with `published_at`) and
its event goes out with the state change. Published, anyone may read it until it expires
or is withdrawn; withdrawn, it is gone, and the bus hears of it only if it had been public.

Published, it may still be corrected: an amendment is a new version. Without an embargo of
its own it goes public at once; with an `embargo_until` still ahead (given, or kept from a
correction still waiting) it waits unseen, as a first version does, and goes public then.

The store's queries apply the same rule in SQL: `due_sql` and `public_sql` are their
predicates, beside the functions they mirror (tests/service/test_advisory_lifecycle.py
checks that the two agree).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from services.advisory.lifecycle.advisory import State
from shared.errors import Conflict

# What an amendment is: a change of a draft still under embargo, or a correction.
Amendment = Literal["draft", "correction"]
# What withdrawing does: nothing again, quietly (it was never public), or tell the bus.
Withdrawal = Literal["none", "quiet", "announce"]
# What the public sees of an id: the advisory, a page saying it is gone, or nothing at all.
PublicView = Literal["public", "gone", "none"]


def may_see(viewer: str | None, agency_id: str) -> bool:
    """Whether the viewer (an agency's id; None for operators) may see that agency's one."""
    return viewer is None or viewer == agency_id


def is_due(state: State, embargo_until: datetime, now: datetime) -> bool:
    """Whether an advisory publishes now: embargoed, and its embargo has passed."""
    return state == "embargoed" and embargo_until <= now


def shown_state(state: State, embargo_until: datetime, now: datetime) -> State:
    """Its state as its agency understands it: a due advisory is as good as published."""
    return "published" if is_due(state, embargo_until, now) else state


def check_amendable(state: State, embargo_until: datetime, now: datetime) -> Amendment:
    """What amending the advisory is: a draft's change before its embargo, or a correction of
    a published one. Raise Conflict when withdrawn, or while it is due but not yet published
    (the keeper holds it for an instant: amend it again as a correction)."""
    if state == "published":
        return "correction"
    if state != "embargoed":
        raise Conflict(f"a {state} advisory cannot be amended")
    if is_due(state, embargo_until, now):
        raise Conflict("the advisory is being published: amend it again in a moment")
    return "draft"


def correction_waits(embargo_until: datetime, now: datetime) -> bool:
    """Whether a correction whose version carries `embargo_until` stays unseen for now."""
    return embargo_until > now


def correction_due(state: State, pending_until: datetime | None, now: datetime) -> bool:
    """Whether a correction waiting for its embargo goes public now (withdrawn, never)."""
    return state == "published" and pending_until is not None and pending_until <= now


def withdrawal(state: State) -> Withdrawal:
    """What withdrawing an advisory in `state` does."""
    if state == "withdrawn":
        return "none"
    # An embargoed advisory never reached the bus, so there is nothing to take back.
    return "announce" if state == "published" else "quiet"


def ever_public(published_at: datetime | None) -> bool:
    """Whether an advisory was ever published: only then may its id cross the bus."""
    return published_at is not None


def is_public(state: State, expires_at: datetime | None, now: datetime) -> bool:
    """Whether anyone may read it now: published and not expired."""
    return state == "published" and (expires_at is None or expires_at > now)


def public_view(
    state: State, published_at: datetime | None, expires_at: datetime | None, now: datetime
) -> PublicView:
    """What the public is shown of an advisory's id."""
    if not ever_public(published_at):
        return "none"  # unknown and embargoed look the same from outside
    return "public" if is_public(state, expires_at, now) else "gone"


def due_sql(now: str = "$1", table: str = "a") -> str:
    """`is_due` as an SQL predicate over `table`, the time as the parameter `now`."""
    return f"{table}.state = 'embargoed' AND {table}.embargo_until <= {now}"


def correction_due_sql(now: str = "$1", table: str = "a") -> str:
    """`correction_due` of a published advisory as an SQL predicate over `table`."""
    return f"{table}.state = 'published' AND {table}.pending_until <= {now}"


def public_sql(now: str = "$1", table: str = "a") -> str:
    """`is_public` as an SQL predicate over `table`, the time as the parameter `now`."""
    return (
        f"{table}.state = 'published'"
        f" AND ({table}.expires_at IS NULL OR {table}.expires_at > {now})"
    )
