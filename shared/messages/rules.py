"""Who an advisory concerns: one Struct per rule kind, tagged by `kind`, and their union.

Each kind carries only its own fields. What a kind means to the matcher lives in
services/matcher/rules/<kind>.py; here are only what every service reads the same way:
the fields, what must be given (`problems`) and what products it concerns (`concerns`).

Wire compatibility: advisories published before the union (one flat struct with every
kind's fields, defaults included) still decode, in the databases' jsonb and on the bus:
the tag names the kind and the other kinds' fields are unknown fields, which msgspec
ignores unless a struct forbids them. So none of these structs may set
`forbid_unknown_fields` (tests/unit/test_rule_kinds.py decodes stored flat JSON).
"""

from __future__ import annotations

from typing import Literal, cast, get_args

import msgspec

Kind = Literal["short_term", "long_term", "combination", "disaster", "recall"]
# JMA's seismic intensity scale (震度), lowest first: the levels of a quake's places.
Intensity = Literal["1", "2", "3", "4", "5-", "5+", "6-", "6+", "7"]
INTENSITIES: tuple[str, ...] = get_args(Intensity)
# JMA's warning levels, lowest first: 警報 (warning), 特別警報 (emergency).
WarningLevel = Literal["warning", "emergency"]
WARNING_LEVELS: tuple[str, ...] = get_args(WarningLevel)


class Concerns(msgspec.Struct, frozen=True, kw_only=True):
    """What an advisory concerns, whatever its kind: the products a page looks it up by."""

    categories: list[str] = []
    skus: list[str] = []
    gtins: list[str] = []
    # Concerns products only while a declared disaster names the advisory (a playbook).
    while_declared: bool = False


class _Rule(msgspec.Struct, kw_only=True, tag_field="kind"):
    """The base of every kind: the tag `kind` is the kind's name on the wire."""

    @property
    def kind(self) -> Kind:
        """The kind's name, as on the wire."""
        return cast(Kind, self.__struct_config__.tag)

    def concerns(self) -> Concerns:
        """What the advisory concerns on product pages."""
        raise NotImplementedError

    def problems(self) -> list[tuple[str, str]]:
        """(field, problem) for each parameter the kind needs and lacks."""
        raise NotImplementedError

    def _required(self, *names: str) -> list[tuple[str, str]]:
        why = f"required for kind {self.kind!r}"
        return [(name, why) for name in names if not getattr(self, name)]


class ShortTerm(_Rule, tag="short_term", kw_only=True):
    """Buyers of the categories, within `window_days` of the purchase."""

    categories: list[str] = []
    window_days: int = 30

    def concerns(self) -> Concerns:
        """Its categories."""
        return Concerns(categories=self.categories)

    def problems(self) -> list[tuple[str, str]]:
        """Categories are required."""
        return self._required("categories")


class LongTerm(_Rule, tag="long_term", kw_only=True):
    """Buyers of the categories, `after_years` after the purchase."""

    categories: list[str] = []
    after_years: int = 10

    def concerns(self) -> Concerns:
        """Its categories."""
        return Concerns(categories=self.categories)

    def problems(self) -> list[tuple[str, str]]:
        """Categories are required."""
        return self._required("categories")


class Combination(_Rule, tag="combination", kw_only=True):
    """Buyers of a product of every group, all within `window_days` of each other."""

    groups: list[list[str]] = []
    window_days: int = 30

    def concerns(self) -> Concerns:
        """The categories of every group."""
        return Concerns(categories=sorted({c for group in self.groups for c in group}))

    def problems(self) -> list[tuple[str, str]]:
        """At least two groups, none empty."""
        found = self._required("groups")
        if len(self.groups) < 2:
            found.append(("groups", "a combination needs at least two groups"))
        if any(not group for group in self.groups):
            found.append(("groups", "every group names at least one category"))
        return found


class Disaster(_Rule, tag="disaster", kw_only=True):
    """A standing playbook: buyers of the categories in the area of a declared disaster."""

    categories: list[str] = []
    hazards: list[str] = []
    countries: list[str] = []
    lookback_days: int = 180
    # Conditions, added later with defaults (rules stored before decode with them): how
    # strong the disaster must be where the customer lives (a place's level on JMA's
    # intensity or warning scale), and how strong a quake measured by magnitude (USGS).
    min_intensity: Intensity = "5-"
    min_warning: WarningLevel = "warning"
    min_magnitude: float = 0.0

    def concerns(self) -> Concerns:
        """Its categories, while a declared disaster names it."""
        return Concerns(categories=self.categories, while_declared=True)

    def problems(self) -> list[tuple[str, str]]:
        """Categories, hazards and countries are required; a magnitude is 0 to 10."""
        found = self._required("categories", "hazards", "countries")
        if not 0 <= self.min_magnitude <= 10:
            found.append(("min_magnitude", "a magnitude from 0 to 10"))
        return found


class Recall(_Rule, tag="recall", kw_only=True):
    """Buyers of a listed SKU or GTIN, however long ago."""

    skus: list[str] = []
    gtins: list[str] = []

    def concerns(self) -> Concerns:
        """Its products, by SKU and GTIN."""
        return Concerns(skus=self.skus, gtins=self.gtins)

    def problems(self) -> list[tuple[str, str]]:
        """At least one SKU or GTIN."""
        if self.skus or self.gtins:
            return []
        return [("skus", "a recall names at least one SKU or GTIN")]


AdvisoryRule = ShortTerm | LongTerm | Combination | Disaster | Recall
