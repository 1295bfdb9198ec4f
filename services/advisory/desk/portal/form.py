"""The portal's advisory form: its fields, per rule kind, and a posted form as a validated
AdvisoryIn.

The form says in words what the JSON API takes: lists are comma-separated, a combination's
groups are one per line, times are the agency's own wall-clock time (its time zone, UTC by
default), converted here. Which fields a kind has comes from the rule union itself
(shared/messages/rules.py): the page shows only the chosen kind's, and a field of another
kind is ignored. Problems are named by the form's own field names. Words are English
msgids, marked with N_ and translated where they are shown (desk/i18n.py).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any, get_args

import msgspec

from services.advisory.lifecycle import AdvisoryIn, validate
from shared import categories
from shared.dates import NoSuchLocalTime, utc_of_local
from shared.errors import Invalid
from shared.http import validation_details
from shared.languages import FALLBACK, N_, NAMES
from shared.messages import INTENSITIES, AdvisoryRule

# The form asks for English first: every advisory has it.
LANGS = {FALLBACK: NAMES[FALLBACK]} | NAMES
CATEGORY_NAMES = categories.named(FALLBACK)
KINDS = {
    "short_term": N_("Short term: buyers of the categories, within a window after purchase"),
    "long_term": N_("Long term: buyers of the categories, some years after purchase"),
    "combination": N_("Combination: buyers of every group, within a window"),
    "disaster": N_("Disaster playbook: buyers of the categories in the area of a disaster"),
    "recall": N_("Recall: buyers of the SKUs or GTINs, ever"),
}
# Each kind's own fields, in the union's order: the form is generated from them.
KIND_FIELDS: dict[str, tuple[str, ...]] = {
    rule.__struct_config__.tag: tuple(f.name for f in msgspec.structs.fields(rule))
    for rule in get_args(AdvisoryRule)
}
RULE_FIELDS = tuple(dict.fromkeys(n for names in KIND_FIELDS.values() for n in names))
FIELD_KINDS = {n: [k for k, names in KIND_FIELDS.items() if n in names] for n in RULE_FIELDS}
# A rule field's input: its hint, its input type and attributes (labels are in LABELS).
INPUTS: dict[str, tuple[str, str, str]] = {
    "categories": (N_("Comma-separated codes such as power_bank, electric_heater."), "text", ""),
    "window_days": (N_("30 if empty."), "number", ' min="1" max="3650"'),
    "after_years": (N_("10 if empty."), "number", ' min="1" max="50"'),
    "groups": (
        N_(
            "One group per line, its categories comma-separated: honey on one line,"
            " baby_products, crib on the next."
        ),
        "textarea",
        "",
    ),
    "hazards": (N_("earthquake, typhoon, hurricane, flood, …"), "text", ""),
    "countries": (N_("ISO codes such as JP, US."), "text", ""),
    "lookback_days": (
        N_("Purchases of the last days; 180 if empty."),
        "number",
        ' min="1" max="3650"',
    ),
    "min_intensity": (
        N_(
            "Earthquakes in Japan: customers whose municipality felt at least this JMA"
            " intensity; 5- by default."
        ),
        "choice",
        "",
    ),
    "min_warning": (
        N_(
            "JMA weather warnings: customers whose municipality is under at least this"
            " warning; a warning (警報) by default."
        ),
        "choice",
        "",
    ),
    "min_magnitude": (
        N_("Earthquakes with a magnitude (USGS): at least this magnitude; any if empty."),
        "number",
        ' min="0" max="10" step="0.1"',
    ),
    "skus": (N_("The shop's SKUs, comma-separated."), "text", ""),
    "gtins": (N_("8 to 14 digits each, comma-separated."), "text", ""),
}
# The form's labels, also named in the summary of problems at the top of the form.
LABELS = {
    "kind": N_("Kind"), "categories": N_("Product categories"),
    "window_days": N_("Window in days"), "after_years": N_("Years after purchase"),
    "groups": N_("Groups of a combination"), "hazards": N_("Hazards"),
    "countries": N_("Countries"), "lookback_days": N_("Look back in days"),
    "min_intensity": N_("Least seismic intensity"), "min_warning": N_("Least warning level"),
    "min_magnitude": N_("Least magnitude"), "skus": N_("SKUs"), "gtins": N_("GTINs"),
    "embargo_until": N_("Embargo until"), "expires_at": N_("Expires"),
    "deliver_by": N_("Deliver by"), "source_url": N_("Your agency's page"),
}  # fmt: skip
# A disaster playbook's conditions, chosen from JMA's scales (lowest first).
CHOICES = {
    "min_intensity": {i: f"震度 {i}" for i in INTENSITIES},
    "min_warning": {
        "warning": N_("Warning (警報)"),
        "emergency": N_("Emergency warning (特別警報)"),
    },
}
LISTS = ("categories", "hazards", "countries", "skus", "gtins")
NUMBERS = ("window_days", "after_years", "lookback_days")
TIMES = ("embargo_until", "expires_at", "deliver_by")
_SPLIT = re.compile(r"[\s,、]+")
# The problems the form itself names (the API's own are translated where the catalogue has them).
WHOLE_NUMBER = N_("a whole number of days or years")
A_TIME = N_("a date and time such as 2026-12-01T10:00")
REQUIRED = N_("required")
A_NUMBER = N_("a number such as 6.5")
NO_SUCH_TIME = N_("this time does not exist in your time zone (the clocks skip it): choose another")
TWICE = N_("this time happens twice in your time zone (the clocks go back): choose another")


def split(text: str) -> list[str]:
    """`a, b c` → ["a", "b", "c"]."""
    return [part for part in _SPLIT.split(text.strip()) if part]


def utc(text: str, zone: str = "UTC") -> datetime:
    """A datetime-local value (`2026-12-01T10:00`) read in the IANA zone `zone`, as UTC.

    ValueError for no date and time; NoSuchLocalTime for one the zone skips or repeats.
    """
    value = datetime.fromisoformat(text.strip())
    if value.tzinfo is not None:
        return value.astimezone(UTC)
    return utc_of_local(value, zone)


def utc_texts(values: dict[str, str], zone: str) -> dict[str, str]:
    """Each time field's UTC equivalent as the page shows it (`2026-12-10 01:00 UTC`)."""
    texts = {}
    for name in TIMES:
        try:
            texts[name] = f"{utc(values[name], zone):%Y-%m-%d %H:%M} UTC"
        except (KeyError, ValueError):
            continue
    return texts


def as_advisory(
    form: dict[str, str], now: datetime, zone: str = "UTC"
) -> tuple[AdvisoryIn | None, dict[str, str]]:
    """The advisory of a posted form, its times read in `zone`, or None and each form
    field's problem."""
    kind = form.get("kind", "")
    # Another kind's fields, shown where scripts are off, are not this advisory's.
    fields = KIND_FIELDS.get(kind, RULE_FIELDS)
    form = {k: v for k, v in form.items() if k not in RULE_FIELDS or k in fields}
    raw: dict[str, Any] = {"kind": kind, "title": {}, "body": {}}
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
                problems[name] = WHOLE_NUMBER
    for name in TIMES:
        if form.get(name, "").strip():
            try:
                raw[name] = utc(form[name], zone).isoformat()
            except NoSuchLocalTime as exc:
                problems[name] = TWICE if exc.twice else NO_SUCH_TIME
            except ValueError:
                problems[name] = A_TIME
        elif name == "embargo_until":
            problems[name] = REQUIRED
    for name in CHOICES:
        if form.get(name, "").strip():
            raw[name] = form[name].strip()
    if form.get("min_magnitude", "").strip():
        try:
            raw["min_magnitude"] = float(form["min_magnitude"])
        except ValueError:
            problems["min_magnitude"] = A_NUMBER
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
