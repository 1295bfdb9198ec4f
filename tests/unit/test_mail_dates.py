"""Dates a customer reads: their own calendar's day, written as their language writes dates."""

from __future__ import annotations

from datetime import datetime

import msgspec

from shared.dates import local_date, local_date_of
from shared.mail.render import Delivery, compose, parse, render
from tests.support.parts import part_text

# 08:30 in Tokyo on 2 January, 00:30 in Paris on 2 January, 15:30 on 1 January in Los Angeles.
PLACED = "2024-01-01T23:30:00Z"


def _delivery(locale: str, timezone: str, placed_at: str = PLACED) -> Delivery:
    return Delivery(
        advisory_id="adv_1",
        customer_id="c-42",
        email="hanako@example.jp",
        name="",
        locale=locale,
        agency_name="製品安全研究所",
        title={"ja": "モバイルバッテリー", "en": "Power banks", "fr": "Batteries externes"},
        body={"ja": "充電中は目を離さないでください。", "en": "Never charge it unattended."},
        source_url="https://agency.example/pb",
        purchases=[{"order_id": "A-1", "sku": "PB-1", "title": "PB", "placed_at": placed_at}],
        timezone=timezone,
    )


def _parts(delivery: Delivery) -> tuple[str, str]:
    mail = render(delivery, sender="s@shop.example", unsubscribe_url="https://u", list_id="l")
    return part_text(mail, "plain"), part_text(mail, "html")


def test_the_order_date_is_the_customers_own_day_in_their_languages_form() -> None:
    cases = [
        ("ja-JP", "Asia/Tokyo", "ご注文日 2024年1月2日"),
        ("en-US", "America/Los_Angeles", "ordered on January 1, 2024"),
        ("fr-FR", "Europe/Paris", "commandé le 2 janvier 2024"),
        ("en-GB", "Europe/London", "ordered on 1 January 2024"),
    ]
    for locale, timezone, shown in cases:
        for part in _parts(_delivery(locale, timezone)):
            assert shown in part, (locale, part)
            assert "2024-01-0" not in part, "no UTC date in ISO form"


def test_a_japanese_order_before_nine_in_the_morning_keeps_its_day() -> None:
    # 00:00-09:00 JST is the day before in UTC: the old mail showed 2023-12-31.
    for placed in (
        "2024-01-01T00:00:00+09:00",
        "2023-12-31T15:00:00Z",
        "2024-01-01T08:59:59+09:00",
    ):
        text, html = _parts(_delivery("ja-JP", "Asia/Tokyo", placed))
        assert "ご注文日 2024年1月1日" in text and "ご注文日 2024年1月1日" in html
        assert "2023" not in text


def test_a_digest_dates_each_purchase_the_same_way() -> None:
    first = _delivery("fr-FR", "Europe/Paris")
    second = msgspec.structs.replace(first, advisory_id="adv_2", purchases=[
        {"order_id": "A-2", "sku": "H-1", "placed_at": "2023-06-30T22:15:00Z"}])  # fmt: skip
    _, raw = compose([first, second], sender="s@shop.example", unsubscribe_url="u", list_id="l")
    digest = parse(raw)
    for part in (part_text(digest, "plain"), part_text(digest, "html")):
        assert "commandé le 2 janvier 2024" in part and "commandé le 1 juillet 2023" in part


def test_zones_and_languages_that_are_not_known() -> None:
    at = datetime.fromisoformat("2024-01-01T23:30:00+00:00")
    assert local_date(at, "", "en") == "January 1, 2024", "no zone: UTC"
    assert local_date(at, "Mars/Olympus_Mons", "en") == "January 1, 2024", "unknown: UTC"
    assert local_date(at.replace(tzinfo=None), "Asia/Tokyo", "ja") == "2024年1月2日", "naive: UTC"
    # A German customer reads English mail: the date is English too, in their zone.
    assert local_date(at, "Europe/Berlin", "en", "de-DE") == "January 2, 2024"
    assert local_date(at, "Asia/Tokyo", "fr", "fr_CA") == "2 janvier 2024"
    assert local_date_of("not a date", "Asia/Tokyo", "ja") == "not a date"
