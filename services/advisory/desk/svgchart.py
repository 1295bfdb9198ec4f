"""An advisory's reach over time as an inline SVG bar chart, drawn on the server."""

from __future__ import annotations

from html import escape

from markupsafe import Markup

from services.advisory.peers.reach import Day

# Each day's bar is every delivery matched that day, stacked by what became of it.
STACK = ("sent", "waiting", "suppressed", "failed")
# Colours tell the series apart and keep 3:1 contrast against white; the legend and the
# table beside the chart name them too, so colour is never the only cue.
COLOURS = {
    "matched": "#1b1b1b",
    "sent": "#1a7f37",
    "waiting": "#b45309",
    "suppressed": "#6b7280",
    "failed": "#b91c1c",
}
WIDTH, HEIGHT = 640, 260
LEFT, RIGHT, TOP, BOTTOM = 56, 12, 16, 44


def nice_ceiling(value: int) -> int:
    """The smallest 1, 2 or 5 times a power of ten that is at least `value` (and at least 1)."""
    step = 1
    while True:
        for factor in (1, 2, 5):
            if step * factor >= value:
                return step * factor
        step *= 10


def reach_chart(days: list[Day], title: str) -> Markup:
    """Stacked daily bars (sent, waiting, suppressed, failed) whose height is the matched."""
    ident = "reach-chart-title"
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img"'
        f' aria-labelledby="{ident}" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{ident}">{escape(title)}</title>',
    ]
    top = nice_ceiling(max((d.counts.get("matched", 0) for d in days), default=0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    lines = 5 if top % 5 == 0 else top  # whole numbers on every grid line (top: 1, 2, 5, 10…)
    for i in range(lines + 1):
        value = top * i // lines
        y = TOP + plot_h - plot_h * i / lines
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="#d0d0d0"/>'
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="12"'
            f' fill="#444">{value}</text>'
        )
    if not days:
        parts.append(
            f'<text x="{LEFT + plot_w / 2}" y="{TOP + plot_h / 2}" text-anchor="middle"'
            ' font-size="14" fill="#444">No deliveries yet</text>'
        )
    slot = plot_w / max(len(days), 1)
    bar = min(slot * 0.7, 80.0)
    for index, day in enumerate(days):
        x = LEFT + slot * index + (slot - bar) / 2
        base = float(TOP + plot_h)
        for series in STACK:
            n = day.counts.get(series, 0)
            if n <= 0:
                continue
            h = plot_h * n / top
            base -= h
            parts.append(
                f'<rect x="{x:.1f}" y="{base:.1f}" width="{bar:.1f}" height="{h:.1f}"'
                f' fill="{COLOURS[series]}"><title>{day.day}: {n} {series}</title></rect>'
            )
        matched = day.counts.get("matched", 0)
        parts.append(
            f'<text x="{x + bar / 2:.1f}" y="{base - 4:.1f}" text-anchor="middle"'
            f' font-size="12" fill="{COLOURS["matched"]}">{matched}</text>'
            f'<text x="{x + bar / 2:.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle"'
            f' font-size="12" fill="#444">{escape(day.day)}</text>'
        )
    parts.append(_legend())
    parts.append("</svg>")
    return Markup("".join(parts))


def _legend() -> str:
    items, x = [], LEFT
    for series in STACK:
        items.append(
            f'<rect x="{x}" y="{HEIGHT - 16}" width="12" height="12" fill="{COLOURS[series]}"/>'
            f'<text x="{x + 16}" y="{HEIGHT - 6}" font-size="12" fill="#1b1b1b">{series}</text>'
        )
        x += 24 + 9 * len(series)
    items.append(
        f'<text x="{x}" y="{HEIGHT - 6}" font-size="12" fill="#1b1b1b">(bar height: matched)</text>'
    )
    return "".join(items)
