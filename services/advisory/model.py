"""An advisory as an agency submits it, and its validation."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec

from shared.errors import Invalid, field_error
from shared.messages import AdvisoryRule
from shared.messages.advisories import Kind

Text = Annotated[str, msgspec.Meta(max_length=20_000)]
Code = Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9_]{1,64}$")]
Days = Annotated[int, msgspec.Meta(ge=1, le=3650)]
Lang = Annotated[str, msgspec.Meta(pattern=r"^[a-z]{2}$")]

REQUIRED_LANGS = ("en",)


class AdvisoryIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """An advisory submitted by an agency."""

    kind: Kind
    title: dict[Lang, Annotated[str, msgspec.Meta(max_length=300)]]
    body: dict[Lang, Text]
    embargo_until: Annotated[datetime, msgspec.Meta(tz=True)]
    categories: list[Code] = []
    window_days: Days = 30
    after_years: Annotated[int, msgspec.Meta(ge=1, le=50)] = 10
    groups: list[list[Code]] = []
    hazards: list[Code] = []
    countries: list[Annotated[str, msgspec.Meta(pattern=r"^[A-Z]{2}$")]] = []
    lookback_days: Days = 180
    skus: list[str] = []
    gtins: list[str] = []
    source_url: Annotated[str, msgspec.Meta(max_length=2000)] = ""
    expires_at: Annotated[datetime, msgspec.Meta(tz=True)] | None = None

    def rule(self) -> AdvisoryRule:
        """The part of the advisory that decides who receives it."""
        return AdvisoryRule(
            kind=self.kind,
            categories=self.categories,
            window_days=self.window_days,
            after_years=self.after_years,
            groups=self.groups,
            hazards=self.hazards,
            countries=self.countries,
            lookback_days=self.lookback_days,
            skus=self.skus,
            gtins=self.gtins,
        )


def validate(advisory: AdvisoryIn, now: datetime) -> None:
    """Check what the types cannot: per-kind parameters, texts, times. Raise Invalid."""
    problems = []
    needs = {
        "short_term": ("categories",),
        "long_term": ("categories",),
        "combination": ("groups",),
        "disaster": ("categories", "hazards", "countries"),
        "recall": (),
    }[advisory.kind]
    for name in needs:
        if not getattr(advisory, name):
            problems.append(field_error(name, f"required for kind {advisory.kind!r}"))
    if advisory.kind == "recall" and not (advisory.skus or advisory.gtins):
        problems.append(field_error("skus", "a recall names at least one SKU or GTIN"))
    if advisory.kind == "combination" and len(advisory.groups) < 2:
        problems.append(field_error("groups", "a combination needs at least two groups"))
    for lang in REQUIRED_LANGS:
        if not advisory.title.get(lang, "").strip():
            problems.append(field_error(f"title.{lang}", "must not be empty"))
        if not advisory.body.get(lang, "").strip():
            problems.append(field_error(f"body.{lang}", "must not be empty"))
    if advisory.embargo_until < now:
        problems.append(field_error("embargo_until", "must not be in the past"))
    if advisory.expires_at is not None and advisory.expires_at <= advisory.embargo_until:
        problems.append(field_error("expires_at", "must be after embargo_until"))
    if problems:
        raise Invalid("invalid advisory", problems)
