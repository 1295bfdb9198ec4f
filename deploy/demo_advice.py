"""The demo's advisories (deploy/data/demo-advisories.toml) and the earthquake it replays."""

from __future__ import annotations

import json
import tomllib
from datetime import datetime
from importlib import resources
from typing import Any

from shared.languages import SUPPORTED as LANGUAGES

AGENCY = "National Product Safety Institute"
SOURCE = "https://safety.example.org/advice/"


def _data(name: str) -> str:
    return resources.files("deploy").joinpath(f"data/{name}").read_text("utf-8")


def advisories() -> dict[str, dict[str, Any]]:
    """Each advisory by its name, as POST /v1/advisories takes it (without embargo_until)."""
    found = {}
    for name, spec in tomllib.loads(_data("demo-advisories.toml")).items():
        rule = {k: v for k, v in spec.items() if k not in LANGUAGES}
        texts = {lang: spec[lang] for lang in LANGUAGES if lang in spec}
        found[name] = {
            **rule,
            "title": {lang: t["title"].strip() for lang, t in texts.items()},
            "body": {lang: t["body"].strip() for lang, t in texts.items()},
            "source_url": SOURCE + name,
        }
    return found


NOTO_USGS = "deploy/data/noto-2024.geojson"
# JMA's own report of the quake (VXSE53, EventID 20240101161010) would declare it by
# municipality; no published copy of it could be found to ship (docs/demo.md, "The quake").
NO_JMA = (
    "JMA: no published VXSE53 of 2024-01-01 (EventID 20240101161010) could be found,"
    " so none is replayed (docs/demo.md)"
)


def noto_quake() -> dict[str, Any]:
    """USGS us6000m0xl: the M7.5 Noto Peninsula earthquake of 2024-01-01 07:10:09 UTC."""
    feature: dict[str, Any] = json.loads(_data(NOTO_USGS.rsplit("/", 1)[1]))
    return feature


def replayed(feature: dict[str, Any], at: datetime) -> dict[str, Any]:
    """The same quake (id, place, magnitude, depth) as if it struck at `at`."""
    return {**feature, "properties": {**feature["properties"], "time": int(at.timestamp() * 1000)}}
