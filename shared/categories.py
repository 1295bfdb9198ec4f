"""The safety category codes: the contract between agencies' advisories and ingest.

The list, with its names and title rules, lives in `data/categories.toml`. Ingest finds the
categories of each order line; the advisory service refuses a rule that names a code that
no line can ever be in, since such an advisory would reach nobody without a word.
"""

from __future__ import annotations

import difflib
import tomllib
from importlib import resources
from typing import Any

from shared.languages import FALLBACK

SPEC: dict[str, dict[str, Any]] = tomllib.loads(
    resources.files("shared").joinpath("data/categories.toml").read_text("utf-8")
)
CODES: frozenset[str] = frozenset(SPEC)
_SORTED = tuple(sorted(SPEC))


def problem(code: str) -> str | None:
    """Why a code names no category (with the nearest real codes), or None when it does."""
    if code in CODES:
        return None
    # Codes that have the word in them first ('heater': gas_heater…), then look-alikes.
    words = set(code.split("_"))
    near = [c for c in _SORTED if words <= set(c.split("_"))]
    near += difflib.get_close_matches(code, _SORTED, n=3, cutoff=0.6)
    near = list(dict.fromkeys(near))[:3]
    hint = f"; did you mean {' or '.join(repr(c) for c in near)}?" if near else ""
    return f"unknown category {code!r}{hint}"


def name(code: str, lang: str) -> str:
    """A category's name in `lang`, else English; an unknown code as words (a_code → A code)."""
    if code not in CODES:  # an advisory published before codes were checked may name one
        return code.replace("_", " ").capitalize()
    names: dict[str, str] = SPEC[code]["names"]
    return names.get(lang) or names[FALLBACK]


def named(lang: str) -> list[tuple[str, str]]:
    """Every (code, name in `lang`, else English), by code: for forms and lists."""
    return [(code, name(code, lang)) for code in _SORTED]
