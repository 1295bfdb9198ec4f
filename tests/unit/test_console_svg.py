"""The console's inline SVG: the reach chart's scale and the disaster map's framing."""

from __future__ import annotations

import re

from services.advisory.desk.svgchart import nice_ceiling, reach_chart
from services.advisory.desk.svgmap import circle_ring, disaster_map, outlines
from services.advisory.peers.reach import Day, five
from shared.messages import Circle, Polygon, Regions


def test_ledger_states_become_five_series() -> None:
    counts = {"queued": 2, "deferred": 1, "sending": 1, "sent": 5, "cancelled": 1, "failed": 1}
    assert five(counts) == {"matched": 11, "sent": 5, "waiting": 4, "suppressed": 1, "failed": 1}
    assert five({"matched": 3, "sent": 2, "waiting": 1}) == {
        "matched": 3, "sent": 2, "waiting": 1, "suppressed": 0, "failed": 0,
    }  # fmt: skip
    # Expired while it waited for the cap or quiet hours: never sent, on purpose.
    assert five({"sent": 1, "expired": 2, "suppressed": 1})["suppressed"] == 3


def test_the_chart_scale_is_round_and_its_grid_whole_numbers() -> None:
    assert [nice_ceiling(n) for n in (0, 1, 3, 7, 16000, 20001)] == [1, 1, 5, 10, 20000, 50000]
    for top in (1, 2, 5, 16000):
        svg = reach_chart([Day("2026-01-01", {"matched": top, "sent": top})], "Reach")
        labels = [
            int(v) for v in re.findall(r'text-anchor="end" font-size="12" fill="#444">(\d+)<', svg)
        ]
        assert labels == sorted(set(labels)) and labels[0] == 0 and labels[-1] >= top
    empty = reach_chart([], "Reach <of> nothing")
    assert "No deliveries yet" in empty and "Reach &lt;of&gt; nothing" in empty


def test_a_circle_on_the_sphere_keeps_its_radius() -> None:
    ring = circle_ring(37.49, 137.27, 111.2)  # about one degree of latitude
    lats = [lat for _, lat in ring]
    assert abs(max(lats) - 38.49) < 0.02 and abs(min(lats) - 36.49) < 0.02
    lons = [lon for lon, _ in ring]
    assert max(lons) - 137.27 > 1.2  # a degree of longitude is shorter at 37°N


def test_the_map_frames_the_country_part_near_the_area() -> None:
    assert {o.country for o in outlines()} == {"JP", "US"}
    noto = disaster_map([Circle(lat=37.49, lon=137.27, radius_km=170)], ["JP"], "Noto")
    width, height = map(float, re.search(r'viewBox="0 0 (\S+) (\S+)"', noto).groups())  # type: ignore[union-attr]
    assert height > width  # Japan's main islands; Okinawa, far away, is left out
    assert noto.count('class="area"') == 1
    florida = disaster_map(
        [Polygon(points=[(25.0, -81.0), (27.5, -80.0), (28.5, -83.0)])], ["US"], "Hurricane"
    )
    width, height = map(float, re.search(r'viewBox="0 0 (\S+) (\S+)"', florida).groups())  # type: ignore[union-attr]
    assert width > height  # the contiguous states, not Alaska or Hawaii
    regions = disaster_map([Regions(codes=["JP-17", "XX-99"])], [], "Typhoon <b>")
    assert "region JP-17" in regions and "XX-99" not in regions and "<b>" not in regions
    whole = disaster_map([Regions(codes=["JP"])], [], "Japan")
    assert 'fill="#f0c9c9"' in whole  # a whole country is shaded, not circled
