"""The safety category list and its title rules in Japanese, English and French."""

from __future__ import annotations

import re

import pytest

from services.ingest import categories
from shared import categories as shared_categories

NAMED_IN_THE_ISSUE = [
    "power_bank",
    "portable_generator",
    "portable_gas_stove",
    "electric_heater",
    "electric_fan",
    "bed_rail",
    "honey",
    "baby_products",
    "ladder",
    "elderly_care",
    "button_battery",
    "tip_over_furniture",
    "co_alarm",
]


def test_the_list_is_long_enough_and_every_entry_is_complete() -> None:
    assert len(categories.CATEGORIES) >= 50
    assert set(NAMED_IN_THE_ISSUE) <= set(categories.BY_CODE)
    for category in categories.CATEGORIES:
        assert re.fullmatch(r"[a-z][a-z0-9]*(_[a-z0-9]+)*", category.code), category.code
        assert set(category.names) == {"ja", "en", "fr"}, category.code
        assert all(category.rules[lang] for lang in ("ja", "en", "fr")), category.code
        assert categories.problems(list(category.implies)) == [], category.code
    with_ids = [c for c in categories.CATEGORIES if c.google_taxonomy_id is not None]
    assert len(with_ids) >= 40
    assert categories.BY_CODE["honey"].google_taxonomy_id == 4947
    assert categories.BY_CODE["portable_generator"].google_taxonomy_id == 1218


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("ポータブル発電機 1600W", ["portable_generator"]),
        ("Portable inverter generator 2000W", ["portable_generator"]),
        ("Groupe électrogène 3000 W", ["portable_generator"]),
        ("モバイルバッテリー 10000mAh", ["power_bank"]),
        ("Anker Power Bank 20000mAh", ["power_bank"]),
        ("Batterie externe USB-C", ["power_bank"]),
        ("カセットコンロ 達人スリム", ["portable_gas_stove"]),
        ("Réchaud à gaz portable", ["portable_gas_stove"]),
        ("国産はちみつ 500g", ["honey"]),
        ("Raw Manuka Honey 250g", ["honey"]),
        ("Miel de lavande 500 g", ["honey"]),
        ("パンパース テープ 新生児", ["baby_products"]),
        ("Couches bébé taille 3", ["baby_products"]),
        ("ベビーベッド 木製", ["crib", "baby_products"]),
        ("脚立 3段", ["ladder"]),
        ("Aluminium step ladder", ["ladder"]),
        ("Escabeau 4 marches", ["ladder"]),
        ("介護用 手すり", ["elderly_care"]),
        ("Fauteuil roulant pliable", ["wheelchair", "elderly_care"]),
        ("ボタン電池 CR2032 5個", ["button_battery"]),
        ("Piles bouton LR44", ["button_battery"]),
        ("ＣＯ警報器", ["co_alarm"]),
        ("Carbon monoxide alarm", ["co_alarm"]),
        ("Détecteur de monoxyde de carbone", ["co_alarm"]),
        ("5段チェスト", ["tip_over_furniture"]),
        ("Tall bookcase, 5 shelves", ["tip_over_furniture"]),
        ("セラミックファンヒーター", ["electric_heater"]),
        ("Radiateur bain d'huile", ["electric_heater"]),
        ("Oil heater 1500W, 9 fins", ["electric_heater"]),  # an oil-filled radiator
        ("Oil-filled radiator with timer", ["electric_heater"]),
        ("石油ファンヒーター", ["kerosene_heater"]),
        ("DCモーター扇風機", ["electric_fan"]),
        ("Ventilateur colonne", ["electric_fan"]),
        ("ベッドガード", ["bed_rail"]),
        ("Barrière de lit enfant", ["bed_rail"]),
        ("Smoke and carbon monoxide detector", ["co_alarm", "smoke_alarm"]),
    ],
)
def test_titles_find_their_categories(title: str, expected: list[str]) -> None:
    assert sorted(categories.from_title(title)) == sorted(expected)


@pytest.mark.parametrize(
    "title",
    [
        "Honeywell thermostat",
        "White noise generator",
        "Dog diapers, size M",
        "Coconut water 1 l",
        "Miele vacuum cleaner",
        "Lighter blue shirt",
        "草加せんべい",
        "ワイドハイター 詰め替え",
        "Ladder shelf",
        "LED candle set",
        "Tondeuse à cheveux",
        "T-shirt",
    ],
)
def test_exclusions_and_whole_words_keep_false_positives_out(title: str) -> None:
    assert categories.from_title(title) == []


def test_full_width_and_case_do_not_matter() -> None:
    assert categories.from_title("ＰＯＷＥＲ ＢＡＮＫ") == ["power_bank"]


def test_implied_categories_follow_without_duplicates() -> None:
    assert categories.expand(["stroller", "baby_products"]) == ["stroller", "baby_products"]
    assert categories.expand(["nursing_bed"]) == ["nursing_bed", "elderly_care"]


def test_a_category_is_named_in_the_readers_language_else_english() -> None:
    assert shared_categories.name("power_bank", "ja") == "モバイルバッテリー"
    assert shared_categories.name("power_bank", "fr") == "Batterie externe"
    assert shared_categories.name("power_bank", "de") == "Power bank"
    # A code an advisory named before codes were checked still reads as words.
    assert shared_categories.name("heater", "fr") == "Heater"
