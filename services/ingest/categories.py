"""The safety categories and the title rules that find them (Japanese, English, French)."""

from __future__ import annotations

import re

import msgspec


class Category(msgspec.Struct, frozen=True, kw_only=True):
    """A safety category: its code, names, Google product taxonomy id and title patterns."""

    code: str
    names: dict[str, str]
    patterns: tuple[str, ...]
    google_taxonomy_id: int | None = None


CATEGORIES: tuple[Category, ...] = (
    Category(
        code="power_bank",
        names={"ja": "モバイルバッテリー", "en": "Power bank", "fr": "Batterie externe"},
        patterns=(r"モバイルバッテリー", r"power ?bank", r"batterie externe"),
        google_taxonomy_id=5566,
    ),
    Category(
        code="portable_generator",
        names={"ja": "ポータブル発電機", "en": "Portable generator", "fr": "Groupe électrogène"},
        patterns=(r"発電機", r"generator", r"groupe [ée]lectrog[èe]ne"),
        google_taxonomy_id=1240,
    ),
    Category(
        code="portable_gas_stove",
        names={"ja": "カセットこんろ", "en": "Portable gas stove", "fr": "Réchaud à gaz"},
        patterns=(r"カセット(こんろ|コンロ)", r"portable (gas )?stove", r"r[ée]chaud"),
    ),
)

BY_CODE = {c.code: c for c in CATEGORIES}
_COMPILED = tuple((c.code, re.compile("|".join(c.patterns), re.IGNORECASE)) for c in CATEGORIES)


def from_title(title: str) -> list[str]:
    """Return the categories whose rules match a product title."""
    return [code for code, pattern in _COMPILED if pattern.search(title)]
