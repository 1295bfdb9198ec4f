"""The demo's synthetic shop: a catalog, customers in Japan and the US, eleven years of orders.

Deterministic: the same size and seed give the same customers, order ids and products; only
the times move with `now` (orders are placed so long before it). Orders travel on three
channels: `web` and `app` in the canonical format, `grocery` in the grocery channel's own.
Besides everyday shopping, some customers bought recently what the demo's advisories concern:
power banks, honey and baby products, a ladder and elderly-care products, and (many of them
in Hokuriku) portable generators and gas stoves.
"""

from __future__ import annotations

import random
import unicodedata
from datetime import datetime, timedelta, timezone
from typing import Any, NamedTuple

from deploy import demo_places as places
from deploy.demo_places import Place

DAY = 86400.0


class Product(NamedTuple):
    """A catalog entry, its title in Japanese and English, and who buys it how often."""

    sku: str
    ja: str
    en: str
    categories: tuple[str, ...]
    weights: tuple[float, float, float]  # general, family, senior


def _p(sku: str, ja: str, en: str, cats: str, g: float, f: float, s: float) -> Product:
    return Product(sku, ja, en, tuple(cats.split()), (g, f, s))


CATALOG = [
    _p("PB-10K", "モバイルバッテリー 10000mAh", "Power bank 10,000 mAh", "power_bank", 10, 8, 3),
    _p("PB-20K", "モバイルバッテリー 20000mAh", "Power bank 20,000 mAh", "power_bank", 5, 3, 1),
    _p("HT-OIL", "オイルヒーター 1200W", "Oil-filled heater 1200 W", "electric_heater", 4, 3, 6),
    _p("HT-CER", "セラミックファンヒーター", "Ceramic fan heater", "electric_heater", 4, 3, 5),
    _p("HT-KERO", "石油ストーブ 対流形", "Kerosene heater, convection", "kerosene_heater", 2, 1, 4),
    _p("FAN-DC", "DCリビング扇風機", "DC living-room fan", "electric_fan", 5, 4, 4),
    _p("KT-08", "電気ケトル 0.8L", "Electric kettle 0.8 L", "electric_kettle", 4, 3, 3),
    _p("SA-10", "住宅用火災警報器", "Smoke alarm, 10-year battery", "smoke_alarm", 2, 1, 2),
    _p("HNY-500", "国産はちみつ 500g", "Wildflower honey 500 g", "honey", 4, 6, 4),
    _p("BB-DIAPER", "紙おむつ Mサイズ 64枚", "Baby diapers, size 3", "baby_products", 0, 12, 0),
    _p("BB-BOTTLE", "哺乳びん 240ml", "Baby bottle 8 oz", "baby_products", 0, 6, 0),
    _p("BB-STROLLER", "A型ベビーカー", "Lightweight stroller", "stroller baby_products", 0, 3, 0),
    _p("LD-3", "アルミ脚立 3段", "Aluminium stepladder, 3 steps", "ladder", 3, 1, 3),
    _p("EC-WALKER", "歩行器 四輪", "Rollator walker with seat", "elderly_care", 0, 0, 6),
    _p("EC-CANE", "折りたたみ杖", "Folding walking cane", "elderly_care", 0, 0, 6),
    _p("GEN-1600", "ポータブル発電機 1600W", "Portable generator 1600 W",
       "portable_generator", 2, 0, 1),
    _p("GEN-INV900", "インバーター発電機 900W", "Inverter generator 900 W",
       "portable_generator", 2, 0, 0),
    _p("GS-CASSETTE", "カセットこんろ", "Portable butane stove", "portable_gas_stove", 3, 2, 3),
    _p("GS-CART3", "カセットボンベ 3本組", "Butane cartridges x3", "gas_cartridge", 3, 1, 2),
    _p("LED-LANTERN", "LEDランタン", "LED lantern", "", 3, 2, 2),
    _p("TWL-BATH", "今治バスタオル", "Cotton bath towel", "", 4, 4, 4),
    _p("RICE-5KG", "コシヒカリ 5kg", "Koshihikari rice 5 kg", "", 3, 4, 3),
]  # fmt: skip
BY_SKU = {p.sku: p for p in CATALOG}
GROCERY = {"HNY-500", "RICE-5KG"}  # what Japanese customers buy on the grocery channel
CHANNELS = ("web", "app", "grocery")  # each posts its own orders with its own key
PERSONAS = ("general", "family", "senior")
YEARS = 11


def gtin(sku: str) -> str:
    """A stable EAN-13 for a SKU (prefix 49, Japan), with its check digit."""
    body = "4912345" + f"{sum(ord(c) * (i + 1) for i, c in enumerate(sku)) % 100000:05d}"
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body))
    return body + str((10 - total % 10) % 10)


def catalog() -> list[dict[str, Any]]:
    """The catalog as PUT /v1/catalog takes it."""
    return [
        {"sku": p.sku, "gtin": gtin(p.sku), "title": p.en, "categories": list(p.categories)}
        for p in CATALOG
    ]


class Customer(NamedTuple):
    """A customer of the shop and where they live."""

    id: str
    name: str
    email: str
    locale: str
    persona: str
    place: Place
    lat: float
    lon: float


class Purchase(NamedTuple):
    """One order of one or more products."""

    order_id: str
    channel: str
    customer: Customer
    placed_at: datetime
    skus: tuple[str, ...]


def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(c for c in folded.lower() if c.isalnum())


def _customer(n: int, rng: random.Random) -> Customer:
    jp = rng.random() < 0.65
    pool = places.JP if jp else places.US
    place = rng.choices(pool, weights=[p.weight for p in pool])[0]
    persona = rng.choices(PERSONAS, weights=(50, 28, 22))[0]
    if jp:
        lang = rng.choices(("ja", "en", "fr"), weights=(95, 3, 2))[0]
    else:
        lang = rng.choices(("en", "fr"), weights=(98, 2))[0]
    if lang == "ja":
        (family, f_roman), (given, g_roman) = (
            rng.choice(places.JA_FAMILY), rng.choice(places.JA_GIVEN[persona])
        )  # fmt: skip
        name, user, locale = f"{family} {given}", f"{g_roman}.{f_roman}", "ja-JP"
    elif lang == "fr":
        given, family = rng.choice(places.FR_GIVEN[persona]), rng.choice(places.FR_FAMILY)
        name, user, locale = f"{given} {family}", f"{_ascii(given)}.{_ascii(family)}", "fr-FR"
    else:
        given, family = rng.choice(places.EN_GIVEN[persona]), rng.choice(places.EN_FAMILY)
        name, user, locale = f"{given} {family}", f"{_ascii(given)}.{_ascii(family)}", "en-US"
    domain = rng.choice(places.DOMAINS[place.country])
    lat, lon = place.lat + rng.gauss(0, 0.02), place.lon + rng.gauss(0, 0.02)
    email = f"{user}{n}@{domain}"
    return Customer(f"C{100000 + n}", name, email, locale, persona, place, lat, lon)


def customers(count: int, seed: int = 2024) -> list[Customer]:
    """`count` customers, the same ones for the same seed."""
    rng = random.Random(seed)
    return [_customer(n, rng) for n in range(count)]


HOKURIKU = {"JP-15", "JP-16", "JP-17", "JP-18", "JP-20", "JP-21"}
PREPARED = [("GEN-1600",), ("GEN-INV900",), ("GS-CASSETTE", "GS-CART3"), ("GS-CASSETTE",),
            ("GEN-1600", "GS-CART3"), ("GS-CART3", "LED-LANTERN")]  # fmt: skip


class _Orders:
    """Orders as they are placed, numbered per channel."""

    def __init__(self, now: datetime, rng: random.Random) -> None:
        self.now, self.rng = now, rng
        self.numbers = {"web": 100000, "app": 500000, "grocery": 700000}
        self.placed: list[Purchase] = []

    def add(self, customer: Customer, age_days: float, skus: tuple[str, ...]) -> None:
        at = self.now - timedelta(seconds=round(max(age_days, 1 / 24) * DAY))
        food = tuple(s for s in skus if s in GROCERY) if customer.place.country == "JP" else ()
        other = tuple(s for s in skus if s not in food)
        app = self.rng.random() < 0.4  # drawn always, so the numbers never depend on the mix
        for channel, part in (("grocery", food), ("app" if app else "web", other)):
            if part:
                self.numbers[channel] += 1
                order_id = f"{channel[0].upper()}-{self.numbers[channel]}"
                self.placed.append(Purchase(order_id, channel, customer, at, part))

    def basket(self, persona: str) -> tuple[str, ...]:
        weights = [p.weights[PERSONAS.index(persona)] for p in CATALOG]
        size = self.rng.choices((1, 2, 3), weights=(6, 3, 1))[0]
        return tuple(dict.fromkeys(p.sku for p in self.rng.choices(CATALOG, weights, k=size)))


def purchases(people: list[Customer], now: datetime, seed: int = 2024) -> list[Purchase]:
    """Every order of the customers: everyday shopping over eleven years, then recent buys
    of what the demo's advisories concern."""
    rng = random.Random(seed + 1)
    orders = _Orders(now.replace(microsecond=0), rng)
    for c in people:
        # A growing shop: recent years weigh more.
        for _ in range(1 + min(7, int(rng.expovariate(1 / 2.2)))):
            orders.add(c, YEARS * 365 * rng.random() ** 1.6, orders.basket(c.persona))
        draws = [rng.random() for _ in range(6)]
        ages = [rng.uniform(1, 25) for _ in range(3)] + [rng.uniform(3, 150)]
        if draws[0] < 0.07:
            orders.add(c, ages[0], (rng.choice(["PB-10K", "PB-20K"]),))
        if c.persona == "family" and draws[1] < 0.35:
            orders.add(c, ages[1], ("HNY-500",))
            orders.add(c, ages[1] + rng.uniform(-1, 10), (rng.choice(["BB-DIAPER", "BB-BOTTLE"]),))
        if c.persona == "senior" and draws[2] < 0.3:
            orders.add(c, ages[2], ("LD-3",))
            orders.add(c, ages[2] + rng.uniform(-1, 10), (rng.choice(["EC-WALKER", "EC-CANE"]),))
        prepared = 0.25 if c.place.region in HOKURIKU else 0.08 if c.place.country == "JP" else 0.04
        if draws[3] < prepared:
            orders.add(c, ages[3], rng.choice(PREPARED))
        if draws[4] < 0.05:  # a heater bought ten years ago: the long-term advice is due
            orders.add(c, 3650 + rng.uniform(10, 300), (rng.choice(["HT-OIL", "HT-KERO"]),))
    return sorted(orders.placed, key=lambda p: p.placed_at)


def _title(sku: str, customer: Customer) -> str:
    product = BY_SKU[sku]
    return product.ja if customer.locale == "ja-JP" else product.en


def canonical(p: Purchase) -> dict[str, Any]:
    """An order of the web or app channel, in the shop's canonical format."""
    c = p.customer
    return {
        "order_id": p.order_id,
        "channel": p.channel,
        "placed_at": p.placed_at.isoformat().replace("+00:00", "Z"),
        "customer": {"id": c.id, "email": c.email, "locale": c.locale,
                     "timezone": c.place.timezone, "name": c.name},
        "ship_to": {"country": c.place.country, "region": c.place.region,
                    "postal_code": c.place.postal, "lat": round(c.lat, 4), "lon": round(c.lon, 4)},
        "lines": [{"sku": s, "gtin": gtin(s), "title": _title(s, c), "quantity": 1}
                  for s in p.skus],
    }  # fmt: skip


def grocery(p: Purchase) -> dict[str, Any]:
    """An order of the grocery channel, in its own format (local time, nested address)."""
    c = p.customer
    local = p.placed_at.astimezone(JST).isoformat()
    return {
        "orderNo": p.order_id,
        "orderedAt": local,
        "member": {"memberId": c.id, "mail": c.email, "lang": c.locale[:2],
                   "tz": c.place.timezone, "name": c.name},
        "delivery": {"address": {"country": "JP", "prefecture": c.place.region,
                                 "zip": c.place.postal},
                     "geo": {"latitude": round(c.lat, 4), "longitude": round(c.lon, 4)}},
        "items": [{"itemCode": s, "jan": gtin(s), "itemName": _title(s, c), "qty": 1}
                  for s in p.skus],
    }  # fmt: skip


JST = timezone(timedelta(hours=9))
