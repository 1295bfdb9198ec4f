"""A ship-to's municipality (JIS X 0402) or county (FIPS), from real postal codes."""

from __future__ import annotations

from datetime import UTC, datetime

import msgspec
import pytest

from services.ingest import areas, geo, publishing
from services.ingest.model import Order
from services.ingest.normalize import Prepared, prepare
from shared import messages as m
from tests.support.shop import order

NOW = datetime(2024, 1, 1, 7, 10, tzinfo=UTC)


@pytest.mark.parametrize(
    ("postal", "region", "area"),
    [
        ("920-0961", "JP-17", "17201"),  # Kanazawa, Korinbo
        ("９２０－０９６１", "JP-17", "17201"),  # full-width, as channels send it
        ("928-0001", "JP-17", "17204"),  # Wajima, Kawai-machi
        ("927-2345", "JP-17", "17204"),  # Wajima, Monzen-machi Akagami (927: not only Wajima)
        ("927-1214", "JP-17", "17205"),  # Suzu, Iida-machi
        ("100-8994", "JP-13", "13101"),  # a large office's own code: Tokyo Central Post Office
        ("0600001", "JP-01", "01101"),  # Sapporo, Chuo-ku
    ],
)
def test_a_japanese_postal_code_gives_its_municipality(postal: str, region: str, area: str) -> None:
    place = geo.locate("JP", None, postal, None, None)
    assert (place.region, place.area, place.area_outcome) == (region, area, areas.FOUND)


@pytest.mark.parametrize(
    ("zip_code", "region", "area"),
    [
        ("94103", "US-CA", "06075"),  # San Francisco County
        ("02108-1234", "US-MA", "25025"),  # Suffolk County, ZIP+4
        ("20001", "US-DC", "11001"),  # the District of Columbia
        ("99501", "US-AK", "02020"),  # Anchorage Municipality
        ("99509", "US-AK", "02020"),  # named "Municipality of Anchorage" by zipcodes
        ("55801", "US-MN", "27137"),  # named "St Louis County" by zipcodes: St. Louis, MN
        ("63145", "US-MO", "29189"),  # the same spelling in Missouri: another county
    ],
)
def test_a_us_zip_code_gives_its_county(zip_code: str, region: str, area: str) -> None:
    place = geo.locate("US", None, zip_code, None, None)
    assert (place.region, place.area, place.area_outcome) == (region, area, areas.FOUND)


def test_a_code_that_names_no_area_is_located_as_precisely_as_the_data_allows() -> None:
    # Well formed, in no municipality: the prefecture from the code's first digits.
    unknown = geo.locate("JP", None, "999-9999", None, None)
    assert (unknown.area, unknown.area_outcome) == (None, areas.UNKNOWN)
    assert (unknown.region, unknown.source) == ("JP-06", "region")
    # Shared by Sapporo's Atsubetsu-ku and Kiyota-ku: neither is taken.
    shared = geo.locate("JP", None, "004-0000", None, None)
    assert (shared.area, shared.area_outcome, shared.region) == (None, areas.AMBIGUOUS, "JP-01")
    # A ZIP code zipcodes does not know, and a military one in no county.
    for zip_code, region in [("00000", None), ("09001", "US-AE")]:
        place = geo.locate("US", None, zip_code, None, None)
        assert (place.area, place.area_outcome, place.region) == (None, areas.UNKNOWN, region)
    # A code of another prefecture or state than the region given: neither is trusted more.
    for country, region, postal in [("JP", "JP-13", "920-0961"), ("US", "NY", "94103")]:
        place = geo.locate(country, region, postal, None, None)
        assert (place.area, place.area_outcome) == (None, areas.MISMATCH)
    # No postal code, or a country without data: nothing to derive, nothing to report.
    for country, region in [("JP", "JP-17"), ("FR", "75")]:
        place = geo.locate(country, region, None, None, None)
        assert (place.area, place.area_outcome) == (None, areas.NONE)
    assert geo.locate("FR", "75", "75001", None, None).area_outcome == areas.NONE


def test_the_reason_names_the_code_and_says_how_the_customer_is_located() -> None:
    unknown = areas.problem(areas.UNKNOWN, "JP", "999-9999", "JP-06")
    assert unknown is not None and unknown.startswith("999-9999 names no municipality")
    mismatch = areas.problem(areas.MISMATCH, "US", "94103", "US-NY")
    assert mismatch == (
        "94103 lies outside the region US-NY: it is located by its region and coordinates only"
    )
    assert areas.problem(areas.FOUND, "JP", "920-0961", "JP-17") is None
    assert areas.problem(areas.NONE, "JP", None, "JP-17") is None


def test_the_code_travels_on_the_order_and_the_postal_code_does_not() -> None:
    raw = order("A-1", NOW)
    raw["ship_to"] = {"country": "JP", "postal_code": "920-0961", "lat": 36.5612, "lon": 136.6562}
    prepared = prepare(msgspec.convert(raw, Order), b"k" * 32)
    assert isinstance(prepared, Prepared)
    prepared.categories = [(["power_bank"], "rule")]
    _, _, payload = publishing.placed(prepared)
    fact = m.decoder(m.OrderPlaced).decode(payload)
    assert fact.location == m.Location(
        country="JP", region="JP-17", lat=36.56, lon=136.66, area_code="17201"
    )
