"""NWS UGC codes (`SSCnnn` a county, `SSZnnn` a forecast zone) as the counties they name.

A county UGC is its state's postal code, `C`, and the county's three FIPS digits: `ARC067`
is Jackson County, Arkansas, FIPS `05067`, the state's FIPS digits read from the Census
Bureau's list PyPI `addfips` ships. A zone UGC (`FLZ108`) is a forecast zone, not a county:
NWS publishes which counties each zone touches only as a file on its own site (the
zone-county correlation, `bpDDmmYY.dbx`), which no package ships, so zones place no one.
"""

from __future__ import annotations

import csv
import functools
import io
import re
from collections.abc import Iterable
from importlib import resources

_COUNTY = re.compile(r"([A-Z]{2})C([0-9]{3})")


@functools.cache
def state_fips() -> dict[str, str]:
    """State postal code → its two FIPS digits, from addfips's data."""
    text = resources.files("addfips").joinpath("data/states.csv").read_text(encoding="utf-8")
    return {row["postal"]: row["fips"] for row in csv.DictReader(io.StringIO(text))}


def counties(codes: Iterable[str]) -> list[str]:
    """The five-digit FIPS codes of the county UGCs among `codes` (zones are left out)."""
    found = set()
    for code in codes:
        match = _COUNTY.fullmatch(code.strip().upper())
        if match and (state := state_fips().get(match[1])):
            found.add(state + match[2])
    return sorted(found)
