"""An advisory as an agency submits or amends it, and its validation."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlsplit

import msgspec
from msgspec import UNSET, UnsetType

from shared import categories, gtin
from shared.errors import Invalid, TooLarge, field_error
from shared.languages import FALLBACK
from shared.messages import AdvisoryRule, Intensity, Kind, WarningLevel
from shared.text import control_in

# Text lengths are checked in validate(), which can name the language; the request size
# limit bounds them meanwhile.
MAX_TEXT = {"title": 300, "body": 20_000}
# A published advisory travels whole in one bus message (advisories.published: every text,
# the rule, the agency's name and the times), and NATS refuses one over its max_payload
# (1 MiB): the advisory, encoded, must fit well within half of that. Fourteen languages of
# 20,000 characters each passed every other limit and made a message of over 1 MiB.
MAX_ENCODED = 384 * 1024
_LISTS = ("categories", "groups", "hazards", "countries", "skus", "gtins", "source_url")
Code = Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9_]{1,64}$")]
Codes = Annotated[list[Code], msgspec.Meta(max_length=200)]
Days = Annotated[int, msgspec.Meta(ge=1, le=3650)]
Years = Annotated[int, msgspec.Meta(ge=1, le=50)]
Lang = Annotated[str, msgspec.Meta(pattern=r"^[a-z]{2}$")]
Country = Annotated[str, msgspec.Meta(pattern=r"^[A-Z]{2}$")]
Sku = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
# Checked (GS1 check digit) and stored as GTIN-14 by validate(): shared/gtin.py.
Gtin = Annotated[str, msgspec.Meta(min_length=1, max_length=gtin.MAX_INPUT)]
Url = Annotated[str, msgspec.Meta(max_length=2000)]
# A disaster playbook's conditions, described in /openapi.json by these words.
MinIntensity = Annotated[
    Intensity,
    msgspec.Meta(
        description="Disaster playbooks: the least JMA seismic intensity (震度) where the"
        " customer lives, on the scale 1, 2, 3, 4, 5-, 5+, 6-, 6+, 7; 5- if not given."
    ),
]
MinWarning = Annotated[
    WarningLevel,
    msgspec.Meta(
        description="Disaster playbooks: the least JMA warning level where the customer"
        " lives: warning (警報) or emergency (特別警報, an emergency warning); warning if"
        " not given."
    ),
]
MinMagnitude = Annotated[
    float,
    msgspec.Meta(
        ge=0,
        le=10,
        description="Disaster playbooks: the least magnitude of an earthquake whose feed"
        " gives one (USGS); 0 (any) if not given. Events without a magnitude are judged"
        " by place.",
    ),
]
When = Annotated[datetime, msgspec.Meta(tz=True)]
Texts = Annotated[dict[Lang, str], msgspec.Meta(max_length=20)]
Bodies = Annotated[dict[Lang, str], msgspec.Meta(max_length=20)]

# Every reader falls back to this language, so every advisory has it.
REQUIRED_LANGS = (FALLBACK,)


class AdvisoryIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """An advisory submitted by an agency."""

    kind: Kind
    title: Texts
    body: Bodies
    embargo_until: When
    categories: Codes = []
    window_days: Days = 30
    after_years: Years = 10
    groups: Annotated[list[Codes], msgspec.Meta(max_length=20)] = []
    hazards: Codes = []
    countries: Annotated[list[Country], msgspec.Meta(max_length=250)] = []
    lookback_days: Days = 180
    min_intensity: MinIntensity = "5-"
    min_warning: MinWarning = "warning"
    min_magnitude: MinMagnitude = 0.0
    skus: Annotated[list[Sku], msgspec.Meta(max_length=1000)] = []
    gtins: Annotated[list[Gtin], msgspec.Meta(max_length=1000)] = []
    source_url: Url = ""
    expires_at: When | None = None
    # When every mail should have gone out; the report says whether the send rates allow it.
    deliver_by: When | None = None

    def rule(self) -> AdvisoryRule:
        """The part of the advisory that decides who receives it: its kind's own fields.

        The request stays flat, as agencies write it; another kind's fields are dropped here.
        """
        rule: AdvisoryRule = msgspec.convert(msgspec.structs.asdict(self), AdvisoryRule)
        return rule


class AdvisoryPatch(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """An amendment (before publication, or a correction after it): only the fields given
    change."""

    kind: Kind | UnsetType = UNSET
    title: Texts | UnsetType = UNSET
    body: Bodies | UnsetType = UNSET
    embargo_until: When | UnsetType = UNSET
    categories: Codes | UnsetType = UNSET
    window_days: Days | UnsetType = UNSET
    after_years: Years | UnsetType = UNSET
    groups: Annotated[list[Codes], msgspec.Meta(max_length=20)] | UnsetType = UNSET
    hazards: Codes | UnsetType = UNSET
    countries: Annotated[list[Country], msgspec.Meta(max_length=250)] | UnsetType = UNSET
    lookback_days: Days | UnsetType = UNSET
    min_intensity: MinIntensity | UnsetType = UNSET
    min_warning: MinWarning | UnsetType = UNSET
    min_magnitude: MinMagnitude | UnsetType = UNSET
    skus: Annotated[list[Sku], msgspec.Meta(max_length=1000)] | UnsetType = UNSET
    gtins: Annotated[list[Gtin], msgspec.Meta(max_length=1000)] | UnsetType = UNSET
    source_url: Url | UnsetType = UNSET
    expires_at: When | UnsetType | None = UNSET
    deliver_by: When | UnsetType | None = UNSET


def amend(current: AdvisoryIn, patch: AdvisoryPatch) -> AdvisoryIn:
    """The advisory with the patch's fields replacing the current ones."""
    merged: dict[str, Any] = msgspec.to_builtins(current)
    merged.update(msgspec.to_builtins(patch))
    result: AdvisoryIn = msgspec.convert(merged, AdvisoryIn)
    return result


def validate(advisory: AdvisoryIn, now: datetime, *, corrects: AdvisoryIn | None = None) -> None:
    """Check what the types cannot: per-kind parameters, texts, times. Raise Invalid.

    `corrects`: the published version this one corrects. Its embargo, long past, may stay
    (the correction goes public at once); its kind may not change.
    """
    problems = _kind_problems(advisory) + _category_problems(advisory) + _text_problems(advisory)
    problems += _gtin_problems(advisory)
    kept = corrects is not None and advisory.embargo_until == corrects.embargo_until
    if advisory.embargo_until < now and not kept:
        problems.append(field_error("embargo_until", "must not be in the past"))
    if corrects is not None and advisory.kind != corrects.kind:
        why = "cannot change once published: withdraw it and submit a new advisory"
        problems.append(field_error("kind", why))
    if advisory.expires_at is not None and advisory.expires_at <= advisory.embargo_until:
        problems.append(field_error("expires_at", "must be after embargo_until"))
    if advisory.deliver_by is not None and advisory.deliver_by <= advisory.embargo_until:
        problems.append(field_error("deliver_by", "must be after embargo_until"))
    if advisory.source_url:
        parts = urlsplit(advisory.source_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            problems.append(field_error("source_url", "must be an http or https URL"))
    if problems:
        raise Invalid("invalid advisory", problems)
    _check_size(advisory)


def _check_size(advisory: AdvisoryIn) -> None:
    """Raise TooLarge naming the advisory's largest part when it would not fit the bus."""
    total = len(msgspec.json.encode(advisory))
    if total <= MAX_ENCODED:
        return
    parts = {
        f"{name}.{lang}": text
        for name in ("title", "body")
        for lang, text in getattr(advisory, name).items()
    }
    parts |= {
        name: getattr(advisory, name)
        for name in ("categories", "groups", "hazards", "countries", "skus", "gtins", "source_url")
    }
    sizes = {field: len(msgspec.json.encode(value)) for field, value in parts.items()}
    largest = max(sizes, key=lambda field: sizes[field])
    problem = (
        f"the advisory takes {total} bytes encoded, at most {MAX_ENCODED}: it travels whole"
        f" in one bus message; its largest part is {largest} ({sizes[largest]} bytes)"
    )
    raise TooLarge("advisory too large", [field_error(largest, problem)])


def _kind_problems(advisory: AdvisoryIn) -> list[dict[str, str]]:
    return [field_error(field, problem) for field, problem in advisory.rule().problems()]


def _gtin_problems(advisory: AdvisoryIn) -> list[dict[str, str]]:
    """Each GTIN that is none (naming it by index); the others become GTIN-14 in place."""
    problems, found = [], []
    for i, code in enumerate(advisory.gtins):
        try:
            found.append(gtin.normalize(code))
        except gtin.InvalidGtin as exc:
            problems.append(field_error(f"gtins[{i}]", str(exc)))
    if not problems:
        advisory.gtins = list(dict.fromkeys(found))  # one product named twice is named once
    return problems


def _category_problems(advisory: AdvisoryIn) -> list[dict[str, str]]:
    named = [(f"categories[{i}]", code) for i, code in enumerate(advisory.categories)]
    named += [
        (f"groups[{g}][{i}]", code)
        for g, group in enumerate(advisory.groups)
        for i, code in enumerate(group)
    ]
    return [field_error(field, why) for field, code in named if (why := categories.problem(code))]


def _text_problems(advisory: AdvisoryIn) -> list[dict[str, str]]:
    problems = []
    for lang in REQUIRED_LANGS:
        if lang not in advisory.title:
            problems.append(field_error(f"title.{lang}", "required"))
        if lang not in advisory.body:
            problems.append(field_error(f"body.{lang}", "required"))
    for name, texts in (("title", advisory.title), ("body", advisory.body)):
        for lang, text in texts.items():
            if not text.strip():
                problems.append(field_error(f"{name}.{lang}", "must not be empty"))
            elif name == "title" and (found := control_in(text)):
                # A title is the mail's Subject: a line break there would start a header.
                why = f"must be one line without control characters ({found})"
                problems.append(field_error(f"{name}.{lang}", why))
            elif len(text) > MAX_TEXT[name]:
                limit = MAX_TEXT[name]
                problems.append(field_error(f"{name}.{lang}", f"longer than {limit} characters"))
    # A language with a title but no body (or the reverse) would mix languages in one mail.
    for lang in sorted(advisory.title.keys() ^ advisory.body.keys()):
        missing = "body" if lang in advisory.title else "title"
        problems.append(field_error(f"{missing}.{lang}", "required in every language given"))
    return problems
