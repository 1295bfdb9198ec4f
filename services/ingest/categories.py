"""The safety categories and the title rules that find them (Japanese, English, French).

The list lives in `shared/data/categories.toml`; its codes are the contract with the agencies.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import msgspec

from shared import categories as shared_categories
from shared.categories import SPEC
from shared.errors import field_error
from shared.languages import SUPPORTED as LANGUAGES


class Category(msgspec.Struct, frozen=True, kw_only=True):
    """A safety category: its code, names, Google product taxonomy id and title rules."""

    code: str
    names: dict[str, str]
    rules: dict[str, tuple[str, ...]]
    exclude: tuple[str, ...] = ()
    implies: tuple[str, ...] = ()
    google_taxonomy_id: int | None = None


def _load() -> tuple[Category, ...]:
    found = []
    for code, spec in SPEC.items():
        found.append(
            Category(
                code=code,
                names=spec["names"],
                rules={lang: tuple(spec.get(lang, ())) for lang in LANGUAGES},
                exclude=tuple(spec.get("exclude", ())),
                implies=tuple(spec.get("implies", ())),
                google_taxonomy_id=spec.get("google"),
            )
        )
    return tuple(found)


CATEGORIES: tuple[Category, ...] = _load()
BY_CODE = {c.code: c for c in CATEGORIES}


def _either(patterns: list[str], *, words: bool = False) -> re.Pattern[str] | None:
    # Titles are lower-cased once instead of matching case-insensitively: much faster.
    if not patterns:
        return None
    either = "|".join(f"(?:{p.lower()})" for p in patterns)
    # English and French rules match whole words; Japanese has no spaces between words.
    return re.compile(rf"\b(?:{either})\b" if words else either)


class _Rules(msgspec.Struct, frozen=True):
    code: str
    latin: re.Pattern[str] | None
    japanese: re.Pattern[str] | None
    exclude: re.Pattern[str] | None


_COMPILED = tuple(
    _Rules(
        c.code,
        _either([p for lang in ("en", "fr") for p in c.rules[lang]], words=True),
        _either(list(c.rules["ja"])),
        _either(list(c.exclude)),
    )
    for c in CATEGORIES
)


def normalize_title(title: str) -> str:
    """Fold case, full-width letters and half-width kana, so rules see one spelling."""
    return unicodedata.normalize("NFKC", title).lower()


def expand(codes: list[str]) -> list[str]:
    """Add the categories that the given ones imply, keeping the order and no duplicates."""
    result = list(dict.fromkeys(codes))
    for code in list(result):
        category = BY_CODE.get(code)
        for implied in category.implies if category else ():
            if implied not in result:
                result.append(implied)
    return result


@lru_cache(maxsize=200_000)
def _from_title(title: str) -> tuple[str, ...]:
    text = normalize_title(title)
    # Every Japanese rule needs a Japanese character: skip them for plain ASCII titles.
    ascii_only = text.isascii()
    found = [
        r.code
        for r in _COMPILED
        if (
            (r.latin is not None and r.latin.search(text))
            or (not ascii_only and r.japanese is not None and r.japanese.search(text))
        )
        and not (r.exclude is not None and r.exclude.search(text))
    ]
    return tuple(expand(found))


def from_title(title: str) -> list[str]:
    """Return the categories whose rules match a product title."""
    return list(_from_title(title))


def problems(codes: list[str]) -> list[dict[str, str]]:
    """A field error for each code of a catalog entry that names no category, with hints."""
    return [
        field_error(f"categories[{i}]", why)
        for i, code in enumerate(codes)
        if (why := shared_categories.problem(code))
    ]
