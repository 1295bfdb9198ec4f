"""JMA disaster XML (気象庁防災情報XML): earthquakes and warnings by municipality.

Read: 震源・震度に関する情報 (VXSE53), each municipality with its maximum intensity; 震度速報
(VXSE51), heard but not declared (regions only, see docs/advisory.md); 気象警報・注意報（Ｈ２７）
(VPWW54) in jma_warnings.py. Anything else from JMA is heard and not declared.
"""

from __future__ import annotations

import re
from datetime import datetime
from xml.etree.ElementTree import Element

from services.advisory.disasters import jma_warnings
from services.advisory.disasters.feeds import Disaster, check_areas
from services.advisory.disasters.xmldoc import time
from shared.errors import Invalid, field_error
from shared.messages import Codes

NS = "http://xml.kishou.go.jp/jmaxml1/"
_HEAD = "http://xml.kishou.go.jp/jmaxml1/informationBasis1/"
_SEIS = "http://xml.kishou.go.jp/jmaxml1/body/seismology1/"
_EB = "http://xml.kishou.go.jp/jmaxml1/elementBasis1/"
_Q = {"r": NS, "h": _HEAD, "s": _SEIS, "eb": _EB}

QUAKE = "震源・震度に関する情報"  # VXSE53
INTENSITY_FLASH = "震度速報"  # VXSE51
# JMA's seismic intensity scale, weakest first.
INTENSITIES = ("1", "2", "3", "4", "5-", "5+", "6-", "6+", "7")
# A station at 5- or more whose figure has not arrived: the municipality had at least 5-.
UNREPORTED = "震度５弱以上未入電"


class Report:
    """The Control and Head of a JMA document: what every kind of it says."""

    def __init__(self, root: Element) -> None:
        self.root = root
        self.title = _text(root, "r:Control/r:Title")
        self.status = _text(root, "r:Control/r:Status")
        self.office = _text(root, "r:Control/r:PublishingOffice", required=False)
        self.headline = _text(root, "h:Head/h:Title", required=False) or self.title
        self.info_type = _text(root, "h:Head/h:InfoType")
        self.event_id = _text(root, "h:Head/h:EventID", required=False)
        serial = _text(root, "h:Head/h:Serial", required=False)
        self.serial = int(serial) if re.fullmatch(r"[0-9]{1,9}", serial) else 0
        reported = _text(root, "h:Head/h:ReportDateTime")
        self.reported_at = time(reported, "Head.ReportDateTime", "JMA report")
        target = _text(root, "h:Head/h:TargetDateTime", required=False)
        self.target_at = (
            time(target, "Head.TargetDateTime", "JMA report") if target else self.reported_at
        )

    def disaster(self, keys: list[str], hazard: str, title: str, occurred_at: datetime) -> Disaster:
        """A Disaster named by keys, with this report's order, cancellation and status."""
        disaster = Disaster(
            keys=keys,
            hazard=hazard,
            title=title[:300],
            occurred_at=occurred_at,
            areas=[],
            countries=["JP"],
            order=[self.serial, int(self.reported_at.timestamp())],
            cancels=self.info_type == "取消",
        )
        if self.status != "通常":
            disaster.actionable = False
            disaster.reason = f"Control/Status {self.status}: a drill or test, nothing is declared"
        elif self.info_type not in ("発表", "訂正", "取消"):
            disaster.actionable, disaster.reason = False, f"Head/InfoType {self.info_type}"
        return disaster


def parse(root: Element) -> Disaster:
    """A disaster from one JMA document; Invalid names the element that is wrong."""
    report = Report(root)
    if report.title == QUAKE:
        return _quake(report)
    if report.title == INTENSITY_FLASH:
        disaster = report.disaster(
            [f"jma:quake:{report.event_id}:flash"], "earthquake", report.headline, report.target_at
        )
        disaster.actionable = False
        disaster.reason = disaster.reason or (
            "a 震度速報 (VXSE51) names regions only, not municipalities: the 震源・震度に関する情報"
            " (VXSE53) of the same EventID declares"
        )
        return disaster
    if report.title == jma_warnings.TITLE:
        return jma_warnings.parse(report)
    disaster = report.disaster(
        [f"jma:{report.title}"], "unknown", report.headline, report.target_at
    )
    disaster.actionable, disaster.reason = False, f"JMA's {report.title} is not read"
    return disaster


def _quake(report: Report) -> Disaster:
    """VXSE53: the municipalities (Pref/Area/City) with their maximum intensity."""
    if not report.event_id:
        raise Invalid("invalid JMA report", [field_error("Head.EventID", "required")])
    body = report.root.find("s:Body", _Q)
    quake = body.find("s:Earthquake", _Q) if body is not None else None
    origin = quake.findtext("s:OriginTime", "", _Q) if quake is not None else ""
    occurred = (
        time(origin, "Body.Earthquake.OriginTime", "JMA report") if origin else report.target_at
    )
    levels: dict[str, str] = {}
    path = "s:Intensity/s:Observation/s:Pref/s:Area/s:City"
    for city in body.iterfind(path, _Q) if body is not None else []:
        code = (city.findtext("s:Code", "", _Q) or "").strip()
        level = _level(city)
        if level and re.fullmatch(r"[0-9]{7}", code):
            jis = code[:5]  # JMA's seven-digit municipality code: the JIS code and two zeros
            levels[jis] = max(level, levels.get(jis, level), key=INTENSITIES.index)
    title = " ".join(filter(None, [_epicentre(quake), report.headline]))
    disaster = report.disaster([f"jma:quake:{report.event_id}"], "earthquake", title, occurred)
    if levels:
        disaster.places = [Codes(scheme="jis", levels=dict(sorted(levels.items())))]
        check_areas([], "Body.Intensity.Observation", disaster.places)
    elif not disaster.cancels and disaster.actionable:
        disaster.actionable = False
        disaster.reason = "no municipality in Japan observed an intensity (Body/Intensity)"
    return disaster


def _level(city: Element) -> str:
    """A City's maximum intensity; at least 5- where a station at 5- or more is unreported."""
    found = (city.findtext("s:MaxInt", "", _Q) or "").strip()
    level = found if found in INTENSITIES else ""
    if (city.findtext("s:Condition", "", _Q) or "").strip() == UNREPORTED:
        level = max(level or "5-", "5-", key=INTENSITIES.index)
    return level


def _epicentre(quake: Element | None) -> str:
    if quake is None:
        return ""
    name = quake.findtext("s:Hypocenter/s:Area/s:Name", "", _Q) or ""
    magnitude = quake.find("eb:Magnitude", _Q)
    mag = magnitude.get("description", "") if magnitude is not None else ""
    return " ".join(filter(None, [name.strip(), mag.strip()]))


def _text(root: Element, path: str, *, required: bool = True) -> str:
    value = (root.findtext(path, "", _Q) or "").strip()
    if required and not value:
        where = path.replace("r:", "").replace("h:", "").replace("/", ".")
        raise Invalid("invalid JMA report", [field_error(where, "required")])
    return value
