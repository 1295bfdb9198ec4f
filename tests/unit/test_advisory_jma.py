"""JMA XML, as JMA publishes its samples: earthquakes and warnings by municipality."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.advisory.disasters import jma, xmldoc
from services.advisory.disasters.feeds import Disaster
from shared.errors import Invalid
from shared.messages import Codes

JMA = Path(__file__).parent.parent / "fixtures" / "jma"
# The 2008 Iwate-Miyagi Nairiku earthquake: three reports, then a cancellation.
IWATE = [
    "32-35_06_03_240613_VXSE53.xml",
    "32-35_06_04_240613_VXSE53.xml",
    "32-35_06_05_240613_VXSE53.xml",
]
IWATE_CANCELLED = "32-35_06_06_100915_VXSE53.xml"


def read(name: str) -> Disaster:
    return jma.parse(xmldoc.parse((JMA / name).read_bytes()))


def levels(disaster: Disaster) -> dict[str, str]:
    (places,) = disaster.places
    assert places.scheme == "jis"
    return places.levels


def test_a_quake_is_its_municipalities_each_at_its_maximum_intensity() -> None:
    quake = read(IWATE[0])
    assert quake.actionable and quake.hazard == "earthquake" and not quake.cancels
    assert quake.keys == ["jma:quake:20080614084350"] and quake.countries == ["JP"]
    assert quake.occurred_at.isoformat() == "2008-06-13T23:43:00+00:00"  # OriginTime
    assert quake.title.startswith("岩手県内陸南部")
    assert quake.areas == []  # places only: no circle drawn from a magnitude
    found = levels(quake)
    # 奥州市 0321500 and 栗原市 0421300 at 6+, 大崎市 0421500 at 6-: seven digits to JIS five.
    assert found["03215"] == "6+" and found["04213"] == "6+" and found["04215"] == "6-"
    assert found["01102"] == "1" and all(len(code) == 5 for code in found)
    assert set(found.values()) <= set(jma.INTENSITIES)


def test_a_municipality_whose_5_minus_or_more_is_unreported_counts_as_at_least_5_minus() -> None:
    found = levels(read(IWATE[0]))
    # 金ケ崎町 (0338100) has no MaxInt, only Condition 震度５弱以上未入電; 大蔵村 (0636500)
    # has MaxInt 4 and that Condition; 羽後町 (0546300) likewise none.
    assert found["03381"] == "5-" and found["06365"] == "5-" and found["05463"] == "5-"


def test_later_serials_order_after_earlier_ones_and_the_cancellation_cancels() -> None:
    reports = [read(name) for name in IWATE]
    assert [r.order[0] for r in reports] == [1, 2, 3]
    assert reports[0].order < reports[1].order < reports[2].order
    assert len(levels(reports[0])) < len(levels(reports[1])) <= len(levels(reports[2]))
    cancel = read(IWATE_CANCELLED)
    assert cancel.cancels and cancel.actionable and cancel.keys == reports[0].keys
    assert cancel.order > reports[2].order  # same serial 3, reported later


def test_a_drill_is_heard_and_not_declared() -> None:
    drill = read("32-35_01_03_240613_VXSE53.xml")
    assert not drill.actionable and "訓練" in drill.reason
    assert levels(drill)  # read whole all the same


def test_an_intensity_flash_names_regions_only_and_waits_for_the_vxse53() -> None:
    flash = read("32-35_04_02_100831_VXSE51.xml")
    assert not flash.actionable and "VXSE53" in flash.reason and flash.places == []
    # Its EventID is the VXSE53's, but a flash never names (or cancels) that disaster.
    quake = read("32-35_04_04_240613_VXSE53.xml")
    assert quake.keys == ["jma:quake:20100125161517"] and flash.keys != quake.keys
    cancelled_flash = read("32-35_10_01_220510_VXSE51.xml")
    assert not cancelled_flash.actionable


def test_warnings_by_municipality_declare_the_highest_hazard() -> None:
    tokyo = read("15_14_01_170216_VPWW54.xml")  # 大雨特別警報 in 2 municipalities
    assert tokyo.actionable and tokyo.hazard == "heavy_rain"
    found = levels(tokyo)
    assert found["13104"] == "emergency" and set(found.values()) == {"warning", "emergency"}
    assert "flood in 3" in tokyo.reason  # the flood warnings are named, not declared
    assert len(tokyo.order) == 1  # no Serial: the report time alone orders
    surge = read("15_15_01_220314_VPWW54.xml")  # 高潮警報, 藍住町 (3640300)
    assert surge.hazard == "storm_surge" and levels(surge) == {"36403": "warning"}


def test_other_jma_documents_are_heard_not_read() -> None:
    doc = (JMA / "32-35_06_03_240613_VXSE53.xml").read_bytes()
    other = doc.replace(
        "震源・震度に関する情報".encode(), "地震の活動状況等に関する情報".encode(), 1
    )
    found = jma.parse(xmldoc.parse(other))
    assert not found.actionable and "not read" in found.reason


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        (b"<Status>\xe9\x80\x9a\xe5\xb8\xb8</Status>", b"<Status></Status>", "Control.Status"),
        (b"<EventID>20080614084350</EventID>", b"<EventID></EventID>", "Head.EventID"),
        (b"2008-06-14T08:47:00+09:00</ReportDateTime>", b"yesterday</ReportDateTime>", "Head."),
    ],
)
def test_a_broken_report_names_the_element(old: bytes, new: bytes, field: str) -> None:
    doc = (JMA / IWATE[0]).read_bytes()
    assert old in doc
    with pytest.raises(Invalid) as caught:
        jma.parse(xmldoc.parse(doc.replace(old, new, 1)))
    assert caught.value.details[0]["field"].startswith(field)


def test_places_travel_on_the_wire_beside_areas() -> None:
    quake = read(IWATE[2])
    assert isinstance(quake.places[0], Codes) and len(levels(quake)) > 700


def test_an_unknown_encoding_is_malformed_xml_not_a_crash() -> None:
    doc = (JMA / IWATE_CANCELLED).read_bytes().replace(b'encoding="UTF-8"', b'encoding="UTL-8"')
    with pytest.raises(Invalid, match="malformed"):
        xmldoc.parse(doc)
