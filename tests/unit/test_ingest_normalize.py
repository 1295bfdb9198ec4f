"""Ship-to locations, customers and the channel formats, as pure functions."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta, timezone

import msgspec
import pytest

from services.ingest import geo, people
from services.ingest.formats import FORMATS, get
from services.ingest.formats.canonical import NO_CHANNEL
from services.ingest.model import Order, OrderEvent, Rejection
from services.ingest.normalize import Prepared, prepare
from shared.errors import Invalid
from tests.support.shop import order

NOW = datetime(2024, 1, 1, 7, 10, tzinfo=UTC)


@pytest.mark.parametrize(
    ("country", "region", "postal", "expected"),
    [
        ("JP", "石川県", None, ("JP-17", None, 36.77, "region")),
        ("JP", "Ishikawa Prefecture", None, ("JP-17", None, 36.77, "region")),
        ("JP", "17", None, ("JP-17", None, 36.77, "region")),
        ("JP", None, "９２７－１２１４", ("JP-17", "927-1214", 36.77, "region")),
        ("JP", None, "0600001", ("JP-01", "060-0001", 43.46, "region")),
        ("US", None, "94103", ("US-CA", "94103", 37.7725, "postal_code")),
        ("US", "new york", None, ("US-NY", None, 42.95, "region")),
        ("FR", "75", "75001", ("FR-75", "75001", None, "none")),
    ],
)
def test_locations_get_a_region_and_coordinates(
    country: str, region: str | None, postal: str | None, expected: tuple[object, ...]
) -> None:
    place = geo.locate(country, region, postal, None, None)
    assert (place.region, place.postal_code, place.lat, place.source) == expected


def test_the_order_s_own_coordinates_win_and_bad_places_are_named() -> None:
    place = geo.locate("JP", "JP-17", None, 37.39, 136.9)
    assert (place.lat, place.lon, place.source) == (37.39, 136.9, "order")
    for country, region, postal, field in [
        ("JP", "Narnia", None, "region"),
        ("JP", None, "12-34", "postal_code"),
        ("US", None, "ABCDE", "postal_code"),
        ("FR", "Île-de-France", None, "region"),
    ]:
        with pytest.raises(geo.PlaceError) as caught:
            geo.locate(country, region, postal, None, None)
        assert caught.value.field == field


def test_customers_get_one_spelling_and_defaults_from_the_ship_to() -> None:
    assert people.email("  Hanako@Example.JP ") == "hanako@example.jp"
    assert people.locale("ja_jp", "JP") == "ja-JP"
    assert people.locale("", "FR") == "fr-FR"
    assert people.locale("zh_hant_tw", "TW") == "zh-Hant-TW"
    with pytest.raises(ValueError):
        people.locale("not a tag", "JP")
    assert people.timezone("", "JP", None, NOW) == "Asia/Tokyo"
    assert people.timezone("", "US", "America/Chicago", NOW) == "America/Chicago"
    nine_ahead = NOW.astimezone(timezone(timedelta(hours=9)))
    assert people.timezone("", "ZZ", None, nine_ahead) == "Etc/GMT-9"
    with pytest.raises(ValueError):
        people.timezone("Mars/Olympus", "JP", None, NOW)
    secret = b"k" * 32
    assert people.email_key(secret, "a@b.jp") != people.email_key(b"x" * 32, "a@b.jp")


def test_prepare_normalizes_the_order() -> None:
    raw = order("A-1", NOW.astimezone(timezone(timedelta(hours=9))), locale="", email=" X@Y.JP")
    raw["customer"]["timezone"] = ""
    raw["ship_to"] = {"country": "jp", "postal_code": "9271214"}
    prepared = prepare(msgspec.convert(raw, Order), b"k" * 32)
    assert isinstance(prepared, Prepared)
    o = prepared.order
    assert o.placed_at == NOW and o.placed_at.utcoffset() == timedelta(0)
    assert (o.customer.email, o.customer.locale, o.customer.timezone) == (
        "x@y.jp",
        "ja-JP",
        "Asia/Tokyo",
    )
    ship_to = (o.ship_to.country, o.ship_to.region, o.ship_to.postal_code)
    assert ship_to == ("JP", "JP-17", "927-1214")
    assert prepared.geo_source == "region"


def test_grocery_records_become_canonical_orders_and_events() -> None:
    body = (
        b'{"orderNo": "G-1", "orderedAt": "2024-01-01T16:10:00+09:00",'
        b' "member": {"memberId": "c-42", "mail": "h@example.jp"},'
        b' "delivery": {"address": {"prefecture": "\xe7\x9f\xb3\xe5\xb7\x9d\xe7\x9c\x8c"}},'
        b' "items": [{"itemCode": "HNY", "itemName": "honey", "qty": 2}]}\n'
        b'{"orderNo": "G-1", "status": "returned", "items": [{"itemCode": "HNY"}]}\n'
        b'{"orderNo": "G-2", "status": "ordered"}\n'
    )
    records = get("grocery").parse(body, "application/x-ndjson", "grocery")
    assert [i for i, _ in records] == [0, 1, 2]
    placed, returned, bad = (r for _, r in records)
    assert isinstance(placed, Order)
    assert (placed.channel, placed.customer.id) == ("grocery", "c-42")
    assert placed.ship_to.region == "石川県"  # normalized later, with the other formats
    assert (placed.lines[0].sku, placed.lines[0].quantity) == ("HNY", 2)
    assert returned == OrderEvent(event="returned", channel="grocery", order_id="G-1", skus=["HNY"])
    assert isinstance(bad, Rejection) and bad.errors[0]["field"] == "orderedAt"


def test_marketplace_rows_group_into_orders_and_chunks_never_split_one() -> None:
    header = "order-id,purchase-date,order-status,buyer-id,buyer-email,sku,ship-country\n"
    rows = [f"M-{n // 2},2024-01-01T00:00:00Z,Shipped,B{n},b@x.jp,S-{n},JP\n" for n in range(6)]
    rows[5] = rows[5].replace("Shipped", "Cancelled")
    data = (header + "".join(rows)).encode()
    records = FORMATS["marketplace"].parse(data, "text/csv", "marketplace")
    orders = [r for _, r in records if isinstance(r, Order)]
    assert [len(o.lines) for o in orders] == [2, 2, 2]
    cancelled = OrderEvent(event="cancelled", channel="marketplace", order_id="M-2", skus=["S-5"])
    assert records[-1] == (5, cancelled)
    chunks = list(FORMATS["marketplace"].chunks(io.BytesIO(data), 3, "marketplace"))
    assert [[i for i, _ in chunk] for chunk in chunks] == [[0, 2], [4, 5]]


def test_canonical_event_rows_and_unknown_formats() -> None:
    body = b'[{"event": "cancelled", "channel": "web", "order_id": "A", "line_nos": [2]}, 5]'
    [(first, event), (second, bad)] = get("canonical").parse(body, "application/json", "")
    assert (first, second) == (0, 1)
    assert event == OrderEvent(event="cancelled", channel="web", order_id="A", line_nos=[2])
    assert isinstance(bad, Rejection)
    with pytest.raises(Invalid):
        get("telex")


def test_blank_ids_are_refused_by_name() -> None:
    raw = order("  ", NOW)
    raw["customer"]["id"] = " "
    refused = prepare(msgspec.convert(raw, Order), b"k" * 32)
    assert isinstance(refused, Rejection)
    assert [e["field"] for e in refused.errors] == ["order_id", "customer.id"]


def test_names_and_titles_lose_control_characters_and_ids_with_one_are_refused() -> None:
    raw = order("A-1", NOW)
    raw["customer"]["name"] = "A\r\nReply-To: x@evil"
    raw["lines"][0]["title"] = "Power bank\r\nBcc: victim@example.com"
    prepared = prepare(msgspec.convert(raw, Order), b"k" * 32)
    assert isinstance(prepared, Prepared)
    assert prepared.order.customer.name == "A Reply-To: x@evil"
    assert prepared.order.lines[0].title == "Power bank Bcc: victim@example.com"

    raw = order("A-1\r\nX: y", NOW)
    raw["channel"] = "web\x00"
    raw["customer"]["id"] = "c\n42"
    raw["customer"]["email"] = "hanako\x07@example.jp"
    raw["lines"][0]["sku"] = "PB\u2028-1"
    refused = prepare(msgspec.convert(raw, Order), b"k" * 32)
    assert isinstance(refused, Rejection)
    assert [(e["field"], e["problem"]) for e in refused.errors] == [
        ("order_id", "must not hold control characters (U+000D)"),
        ("channel", "must not hold control characters (U+0000)"),
        ("customer.id", "must not hold control characters (U+000A)"),
        ("customer.email", "must not hold control characters (U+0007)"),
        ("lines[0].sku", "must not hold control characters (U+2028)"),
    ]


def test_every_text_has_a_length_limit_in_every_format() -> None:
    # Built as the grocery and marketplace formats build orders: no decoder's limits apply.
    raw = order("A-1", NOW)
    o = msgspec.convert(raw, Order)
    o.order_id, o.customer.name = "x" * 201, "n" * 201
    o.lines[0].gtin = "4" * 30
    o.ship_to.country, o.ship_to.region, o.ship_to.postal_code = "FR", None, "7" * 17
    refused = prepare(o, b"k" * 32)
    assert isinstance(refused, Rejection)
    assert [e["field"] for e in refused.errors] == [
        "order_id",
        "customer.name",
        "lines[0].gtin",
        "ship_to.postal_code",
    ]


def test_a_record_naming_no_channel_takes_the_one_given() -> None:
    """The key's channel over HTTP; where none is given, a canonical record must name one."""
    body = msgspec.json.encode(
        [{k: v for k, v in order("A", NOW).items() if k != "channel"}, order("B", NOW),
         {"event": "cancelled", "order_id": "A"}, {**order("C", NOW), "channel": ""}]
    )  # fmt: skip
    taken = get("canonical").parse(body, "application/json", "app")
    assert [getattr(r, "channel", None) for _, r in taken] == ["app", "web", "app", None]
    assert isinstance(taken[3][1], Rejection) and taken[3][1].errors[0]["field"] == "channel"
    unnamed = get("canonical").parse(body, "application/json", "")
    assert unnamed[0][1] == Rejection([{"field": "channel", "problem": NO_CHANNEL}])
    assert unnamed[2][1] == Rejection([{"field": "channel", "problem": NO_CHANNEL}])
    assert isinstance(unnamed[1][1], Order) and unnamed[1][1].channel == "web"
    # A channel's own format names no channel: its records are the one given.
    header = "order-id,purchase-date,buyer-id,buyer-email,sku,ship-country\n"
    csv = (header + "M-1,2024-01-01T00:00:00Z,B7,b@x.jp,S-1,JP\n").encode()
    [(_, bought)] = get("marketplace").parse(csv, "text/csv", "mall")
    assert isinstance(bought, Order) and (bought.channel, bought.customer.id) == ("mall", "mall:B7")
