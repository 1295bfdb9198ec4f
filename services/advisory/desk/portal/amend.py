"""/portal/advisories/{id}/amend: an agency amends its advisory as `PATCH` does: under
embargo a new draft, once published a correction mailed to those who received it.

The form holds the texts in every language, the categories (a rule may be widened) and an
optional embargo for the correction; what is left as it was does not change.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec
from aiohttp import web

from services.advisory.desk.portal.form import (
    A_TIME,
    LABELS,
    LANGS,
    NO_SUCH_TIME,
    TWICE,
    form_field,
    split,
    utc,
    utc_texts,
)
from services.advisory.desk.portal.pages import Session, session
from services.advisory.desk.web import checked_form, csrf_token, html, refused
from services.advisory.lifecycle import (
    Advisory,
    AdvisoryIn,
    AdvisoryPatch,
    amend,
    amendment,
    embargo,
    store,
    validate,
)
from services.advisory.lifecycle.embargo import Amendment
from shared.dates import NoSuchLocalTime
from shared.errors import AnshinError, NotFound
from shared.http import POOL, validation_details
from shared.languages import FALLBACK, N_
from shared.service import CLOCK

routes = web.RouteTableDef()
PATH = "/portal/advisories/{advisory_id}/amend"
NOT_YOURS = N_("This advisory is not one of yours, or does not exist.")
AMENDMENT = N_("Amendment")


def values_of(advisory: Advisory) -> dict[str, str]:
    """The form filled with the advisory as it stands."""
    values = {f"title_{lang}": text for lang, text in advisory.title.items()}
    values |= {f"body_{lang}": text for lang, text in advisory.body.items()}
    return values | {"categories": ", ".join(_categories(advisory) or [])}


def _categories(advisory: Advisory) -> list[str] | None:
    """The rule's categories, None for a kind without them (recalls, combinations)."""
    found = getattr(advisory.rule, "categories", None)
    return list(found) if isinstance(found, list) else None


def as_patch(
    form: dict[str, str], advisory: Advisory, zone: str = "UTC"
) -> tuple[AdvisoryPatch | None, dict[str, str]]:
    """The amendment of a posted form (only what differs; a time read in the agency's `zone`),
    or None and each field's problem."""
    raw: dict[str, Any] = {"title": {}, "body": {}}
    for lang in LANGS:
        title, body = form.get(f"title_{lang}", "").strip(), form.get(f"body_{lang}", "").strip()
        if title or body or lang == FALLBACK:
            raw["title"][lang], raw["body"][lang] = title, body
    categories, kept = split(form.get("categories", "")), _categories(advisory)
    if kept is not None and categories != kept:
        raw["categories"] = categories
    if form.get("embargo_until", "").strip():
        try:
            raw["embargo_until"] = utc(form["embargo_until"], zone).isoformat()
        except NoSuchLocalTime as exc:
            return None, {"embargo_until": TWICE if exc.twice else NO_SUCH_TIME}
        except ValueError:
            return None, {"embargo_until": A_TIME}
    try:
        return msgspec.convert(raw, AdvisoryPatch), {}
    except msgspec.ValidationError as exc:
        detail = validation_details(exc)[0]
        return None, {form_field(detail["field"]): detail["problem"]}


def _field(path: str) -> str:
    """The form field a problem names; the whole amendment's (nothing changed) its own."""
    return "amendment" if path == "$" else form_field(path)


async def _mine(request: web.Request, me: Session) -> Advisory | None:
    try:
        advisory = await store.get_advisory(request.app[POOL], request.match_info["advisory_id"])
    except NotFound:
        return None
    return advisory if embargo.may_see(me.agency_id, advisory.agency_id) else None


def _form(
    request: web.Request, me: Session, advisory: Advisory, values: dict[str, str],
    problems: dict[str, str],
) -> web.Response:  # fmt: skip
    return html(
        request, "portal_amend.html.j2", 400 if problems else 200, zone=me.timezone, me=me,
        csrf=csrf_token(request, me.sid), a=advisory, values=values, problems=problems,
        langs=LANGS, labels=LABELS | {"amendment": AMENDMENT},
        utc_now=utc_texts(values, me.timezone),
    )  # fmt: skip


@routes.get(PATH)
async def form(request: web.Request) -> web.Response:
    """The amendment form, filled with the advisory as it stands."""
    me = await session(request)
    if me is None:
        raise web.HTTPSeeOther("/portal")
    advisory = await _mine(request, me)
    if advisory is None:
        return html(request, "portal_message.html.j2", 404, me=me, message=NOT_YOURS,
                    csrf=csrf_token(request, me.sid))  # fmt: skip
    return _form(request, me, advisory, values_of(advisory), {})


@routes.post(PATH)
async def submit(request: web.Request) -> web.Response:
    """Amend: a new version, validated as through the API; then back to the advisory."""
    me = await session(request)
    if me is None:
        raise web.HTTPSeeOther("/portal")
    posted = await checked_form(request, me.sid)
    if posted is None:
        return refused(request)
    advisory = await _mine(request, me)
    if advisory is None:
        return html(request, "portal_message.html.j2", 404, me=me, message=NOT_YOURS,
                    csrf=csrf_token(request, me.sid))  # fmt: skip
    patch, problems = as_patch(posted, advisory, me.timezone)
    if patch is None:
        return _form(request, me, advisory, posted, problems)
    now: datetime = request.app[CLOCK].now()

    def change(current: AdvisoryIn, what: Amendment) -> AdvisoryIn:
        amended = amend(current, patch)
        validate(amended, now, corrects=current if what == "correction" else None)
        return amended

    try:
        await amendment.amend_advisory(request.app[POOL], advisory.id, change, now)
    except AnshinError as exc:  # invalid, too large, or no longer amendable
        named = {_field(d["field"]): d["problem"] for d in exc.details}
        return _form(request, me, advisory, posted, named or {"embargo_until": exc.message})
    raise web.HTTPSeeOther(f"/portal/advisories/{advisory.id}")
