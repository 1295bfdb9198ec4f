"""`make demo` on the stack as `make up` runs it: the Noto quake reaches its area, only it."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import parseaddr
from math import asin, cos, radians, sin, sqrt
from pathlib import Path

import pytest

from deploy import demo_shop
from tests.support.launcher import Launcher, launched, python

CUSTOMERS = 300
EPICENTRE = (37.4874, 137.271)
PLAYBOOKS = {
    "generators-after-earthquakes": {"portable_generator"},
    "gas-stoves-after-earthquakes": {"portable_gas_stove", "gas_cartridge"},
}
LOOKBACK = timedelta(days=180)
# The test places customers and purchases as the demo does, a few seconds apart, and
# measures distances with its own formula: cases this close to an edge decide nothing.
SLACK_KM, SLACK_TIME = 1.0, timedelta(days=1)


@pytest.fixture
def launcher(tmp_path: Path, database_url: str) -> Iterator[Launcher]:
    """`make up` with its embedded NATS server, whose users the demo meets as `make demo` does."""
    with launched(tmp_path / "data", DATABASE_URL=database_url) as stack:
        yield stack


def km(lat: float, lon: float) -> float:
    """Great-circle distance from the epicentre."""
    (a, o) = EPICENTRE
    h = (
        sin(radians(lat - a) / 2) ** 2
        + cos(radians(a)) * cos(radians(lat)) * sin(radians(lon - o) / 2) ** 2
    )
    return 2 * 6371.0088 * asin(sqrt(h))


def recipients(launcher: Launcher, advisory_id: str) -> set[str]:
    """The addresses of every mail that carries the advisory."""
    return {
        parseaddr(str(mail["To"]))[1]
        for mail in launcher.mails()
        if advisory_id in str(mail["X-Anshin-Advisory"]).split(",")
    }


@pytest.mark.timeout(300)
async def test_the_demo_replays_the_noto_quake_to_its_area_and_runs_twice(
    launcher: Launcher,
) -> None:
    started = datetime.now(UTC)
    first = await python(launcher.env, "deploy.demo", "--customers", str(CUSTOMERS), "--lead", "3")
    assert first.code == 0, first.out + first.err
    assert "Traceback" not in first.err
    ids = dict((name, i) for i, name in re.findall(r"submitted (adv_\w+) ([\w-]+):", first.out))
    assert len(ids) == 6, first.out
    assert re.search(r"declared: dis_\w+: earthquake", first.out), first.out
    # It says which documents it replays: USGS's Feature; JMA's VXSE53 could not be had.
    assert "replays: deploy/data/noto-2024.geojson, USGS's GeoJSON Feature" in first.out
    assert "JMA: no published VXSE53 of 2024-01-01 (EventID 20240101161010)" in first.out
    radius = float(re.findall(r"radius ([\d.]+) km", first.out)[0])
    assert radius == pytest.approx(30 * 2**2.5, abs=0.1)  # M7.5: 30 km at M5, doubling per unit

    people = demo_shop.customers(CUSTOMERS)
    orders = demo_shop.purchases(people, started)
    by_email = {c.email: c for c in people}
    for name, categories in PLAYBOOKS.items():

        def bought(
            customer: demo_shop.Customer, slack: timedelta, cats: set[str] = categories
        ) -> bool:
            return any(
                o.customer is customer
                and o.placed_at >= started - LOOKBACK + slack
                and cats & {c for s in o.skus for c in demo_shop.BY_SKU[s].categories}
                for o in orders
            )

        japan = [c for c in people if c.place.country == "JP"]
        surely = {c.email for c in japan if km(c.lat, c.lon) < radius - SLACK_KM
                  and bought(c, SLACK_TIME)}  # fmt: skip
        maybe = {c.email for c in japan if km(c.lat, c.lon) <= radius + SLACK_KM
                 and bought(c, -SLACK_TIME)}  # fmt: skip
        outside = {c.email for c in people if km(c.lat, c.lon) > radius + SLACK_KM
                   and bought(c, SLACK_TIME)}  # fmt: skip
        assert surely and outside, "the demo shop has buyers inside and outside the area"
        got = recipients(launcher, ids[name])
        assert surely <= got, f"{name}: not told: {sorted(surely - got)}"
        assert got <= maybe, f"{name}: told outside the area: {sorted(got - maybe)}"
        assert all(by_email[e].place.country == "JP" for e in got)
    # Quiet hours are off here: the routine advice is out too.
    for name, advisory_id in ids.items():
        assert recipients(launcher, advisory_id), f"no mail for {name}"
    assert re.search(rf"Mail: {len(launcher.mails()):,} new mails", first.out), first.out

    # The second run finds everything done: duplicates, no new advisory, no new mail.
    mails = len(launcher.mails())
    second = await python(launcher.env, "deploy.demo", "--customers", str(CUSTOMERS))
    assert second.code == 0, second.out + second.err
    assert "ingest: 0 accepted" in second.out
    assert "all 6 were submitted by an earlier run" in second.out
    assert "already declared, nothing new is sent" in second.out
    assert "Mail: 0 new mails" in second.out
    await asyncio.sleep(3)
    assert len(launcher.mails()) == mails
