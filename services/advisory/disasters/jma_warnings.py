"""JMA weather warnings by municipality: 気象警報・注意報（Ｈ２７）, VPWW54.

The form read is the one of JMA's published samples and feed since 2015: Control/Title
気象警報・注意報（Ｈ２７）, Body/Warning of type 気象警報・注意報（市町村等）. The forms JMA
brings in 2026 (VPWW55 and after) are not read: they are heard and not declared.
"""

from __future__ import annotations

import re
from datetime import timedelta, timezone
from typing import TYPE_CHECKING

from services.advisory.disasters.feeds import check_areas
from shared.messages import Codes

if TYPE_CHECKING:
    from services.advisory.disasters.feeds import Disaster
    from services.advisory.disasters.jma import Report

TITLE = "気象警報・注意報（Ｈ２７）"
_MET = "http://xml.kishou.go.jp/jmaxml1/body/meteorology1/"
_Q = {"m": _MET}
BY_MUNICIPALITY = "気象警報・注意報（市町村等）"
# JMA's warning codes (Kind/Code) read here: the hazard and the level of each. Advisories
# (注意報) and other warnings (snow, waves, …) are not disasters for Anshin.
KINDS = {
    "03": ("heavy_rain", "warning"),  # 大雨警報
    "04": ("flood", "warning"),  # 洪水警報
    "05": ("storm", "warning"),  # 暴風警報
    "08": ("storm_surge", "warning"),  # 高潮警報
    "33": ("heavy_rain", "emergency"),  # 大雨特別警報
    "35": ("storm", "emergency"),  # 暴風特別警報
    "38": ("storm_surge", "emergency"),  # 高潮特別警報
}
LEVELS = ("warning", "emergency")
HAZARDS = ("heavy_rain", "flood", "storm_surge", "storm")  # the first wins a tie
# A Kind/Status that means the warning is not (or no longer) in force there.
NOT_IN_FORCE = ("解除", "発表警報・注意報はなし")
_JST = timezone(timedelta(hours=9), "JST")


def parse(report: Report) -> Disaster:
    """One disaster per document: the hazard at the highest level, over its municipalities.

    A document is the whole state of a prefecture's warnings; the disaster is named by the
    publishing office, the hazard and the day (JST), so each later document of that day is
    a revision of it (municipalities newly warned are added, nobody is told twice).
    """
    by_hazard: dict[str, dict[str, str]] = {}
    warnings = report.root.iterfind(f"m:Body/m:Warning[@type='{BY_MUNICIPALITY}']/m:Item", _Q)
    for item in warnings:
        code = (item.findtext("m:Area/m:Code", "", _Q) or "").strip()
        if not re.fullmatch(r"[0-9]{7}", code):
            continue
        for kind in item.iterfind("m:Kind", _Q):
            found = KINDS.get((kind.findtext("m:Code", "", _Q) or "").strip())
            if found is None or (kind.findtext("m:Status", "", _Q) or "").strip() in NOT_IN_FORCE:
                continue
            hazard, level = found
            places = by_hazard.setdefault(hazard, {})
            places[code[:5]] = max(level, places.get(code[:5], level), key=LEVELS.index)
    day = report.reported_at.astimezone(_JST).date().isoformat()
    if not by_hazard:
        disaster = report.disaster(
            [f"jma:warning:{report.office}:{day}"], "storm", report.headline, report.target_at
        )
        disaster.actionable = False
        disaster.reason = disaster.reason or "no heavy rain, flood, storm or storm surge warning"
        return disaster
    hazard = max(by_hazard, key=lambda h: (_top(by_hazard[h]), -HAZARDS.index(h)))
    levels = by_hazard.pop(hazard)
    title = f"{report.headline}: {hazard.replace('_', ' ')}"
    disaster = report.disaster(
        [f"jma:warning:{report.office}:{hazard}:{day}"], hazard, title, report.target_at
    )
    disaster.order = disaster.order[1:]  # warnings have no Serial: the report time orders
    disaster.places = [Codes(scheme="jis", levels=dict(sorted(levels.items())))]
    check_areas([], "Body.Warning", disaster.places)
    if by_hazard and disaster.actionable:
        others = ", ".join(f"{h} in {len(p)}" for h, p in sorted(by_hazard.items()))
        disaster.reason = f"also in force, not declared from this document: {others}"
    return disaster


def _top(levels: dict[str, str]) -> int:
    return max(LEVELS.index(level) for level in levels.values())
