"""The portal's advisory form: its fields, and a posted form as a validated AdvisoryIn.

The form says in words what the JSON API takes: lists are comma-separated, a combination's
groups are one per line, times are UTC. Problems are named by the form's own field names.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import msgspec

from services.advisory.lifecycle import AdvisoryIn, validate
from shared import categories
from shared.errors import Invalid
from shared.http import validation_details
from shared.languages import FALLBACK, NAMES
from shared.messages import INTENSITIES

# The portal speaks English: its form asks for English first.
LANGS = {FALLBACK: NAMES[FALLBACK]} | NAMES
CATEGORY_NAMES = categories.named(FALLBACK)
KINDS = {
    "short_term": "Short term: buyers of the categories, within a window after purchase",
    "long_term": "Long term: buyers of the categories, some years after purchase",
    "combination": "Combination: buyers of every group, within a window",
    "disaster": "Disaster playbook: buyers of the categories in the area of a disaster",
    "recall": "Recall: buyers of the SKUs or GTINs, ever",
}
# The form's labels, also named in the summary of problems at the top of the form.
LABELS = {
    "kind": "Kind", "categories": "Product categories", "window_days": "Window in days",
    "after_years": "Years after purchase", "groups": "Groups of a combination",
    "hazards": "Hazards", "countries": "Countries", "lookback_days": "Look back in days",
    "min_intensity": "Least seismic intensity", "min_warning": "Least warning level",
    "min_magnitude": "Least magnitude",
    "skus": "SKUs", "gtins": "GTINs", "embargo_until": "Embargo until",
    "expires_at": "Expires", "deliver_by": "Deliver by", "source_url": "Your agency's page",
} | {f"{part}_{code}": f"{name}: {'title' if part == 'title' else 'text'}"
     for code, name in LANGS.items() for part in ("title", "body")}  # fmt: skip
# A disaster playbook's conditions, chosen from JMA's scales (lowest first).
CHOICES = {
    "min_intensity": {i: f"震度 {i}" for i in INTENSITIES},
    "min_warning": {"warning": "Warning (警報)", "emergency": "Emergency warning (特別警報)"},
}
LISTS = ("categories", "hazards", "countries", "skus", "gtins")
NUMBERS = ("window_days", "after_years", "lookback_days")
TIMES = ("embargo_until", "expires_at", "deliver_by")
_SPLIT = re.compile(r"[\s,、]+")


def split(text: str) -> list[str]:
    """`a, b c` → ["a", "b", "c"]."""
    return [part for part in _SPLIT.split(text.strip()) if part]


def utc(text: str) -> datetime:
    """A datetime-local value (`2026-12-01T10:00`) read as UTC."""
    value = datetime.fromisoformat(text.strip())
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def as_advisory(form: dict[str, str], now: datetime) -> tuple[AdvisoryIn | None, dict[str, str]]:
    """The advisory of a posted form, or None and each form field's problem."""
    raw: dict[str, Any] = {"kind": form.get("kind", ""), "title": {}, "body": {}}
    problems: dict[str, str] = {}
    for lang in LANGS:
        title, body = form.get(f"title_{lang}", "").strip(), form.get(f"body_{lang}", "").strip()
        if title or body or lang == FALLBACK:
            raw["title"][lang], raw["body"][lang] = title, body
    for name in LISTS:
        raw[name] = split(form.get(name, ""))
    raw["countries"] = [c.upper() for c in raw["countries"]]
    raw["groups"] = [split(line) for line in form.get("groups", "").splitlines() if line.strip()]
    for name in NUMBERS:
        if form.get(name, "").strip():
            try:
                raw[name] = int(form[name])
            except ValueError:
                problems[name] = "a whole number of days or years"
    for name in TIMES:
        if form.get(name, "").strip():
            try:
                raw[name] = utc(form[name]).isoformat()
            except ValueError:
                problems[name] = "a date and time such as 2026-12-01T10:00"
        elif name == "embargo_until":
            problems[name] = "required"
    for name in CHOICES:
        if form.get(name, "").strip():
            raw[name] = form[name].strip()
    if form.get("min_magnitude", "").strip():
        try:
            raw["min_magnitude"] = float(form["min_magnitude"])
        except ValueError:
            problems["min_magnitude"] = "a number such as 6.5"
    if form.get("source_url", "").strip():
        raw["source_url"] = form["source_url"].strip()
    problems |= _type_problems(raw)
    if any(name in problems for name in ("kind", *TIMES)):
        return None, problems
    try:
        advisory = msgspec.convert(raw, AdvisoryIn)
        validate(advisory, now)
    except msgspec.ValidationError as exc:  # a text map the per-field check let through
        problems.setdefault(form_field(validation_details(exc)[0]["field"]), str(exc))
        return None, problems
    except Invalid as exc:
        for detail in exc.details:
            problems.setdefault(form_field(detail["field"]), detail["problem"])
    return (None, problems) if problems else (advisory, {})


def _type_problems(raw: dict[str, Any]) -> dict[str, str]:
    """Each field checked against its type on its own, so that every problem is named at
    once; a field in error is dropped from `raw`, so the rest can still be validated."""
    problems: dict[str, str] = {}
    for field in msgspec.structs.fields(AdvisoryIn):
        if field.name not in raw:
            continue
        try:
            msgspec.convert(raw[field.name], field.type)
        except msgspec.ValidationError as exc:
            for detail in validation_details(exc):
                inner = detail["field"]
                path = (
                    field.name
                    if inner in ("$", "") or inner.startswith("[")
                    else f"{field.name}.{inner}"
                )
                problems.setdefault(form_field(path), detail["problem"])
            if field.name not in ("title", "body"):
                del raw[field.name]
    return problems


def form_field(path: str) -> str:
    """The form field of an API field path: `title.ja` → title_ja, `groups[1][0]` → groups."""
    head, _, rest = path.partition(".")
    head = head.split("[")[0]
    if head in ("title", "body"):
        lang = rest.split(".")[0]
        return f"{head}_{lang if lang in LANGS else FALLBACK}"
    return head or "kind"
