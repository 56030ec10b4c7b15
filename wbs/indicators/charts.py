"""Server-rendered SVG charts of the indicators (no scripts, every text escaped).

Charts take figures as computed (staff) or suppressed (public): a withheld value is drawn
as no bar with its marker ("<5", "x") written where the bar would be.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from wbs.core.text import Text
from wbs.indicators.definitions import CHANNELS
from wbs.units.models import CHANNEL_NAMES, CaseType

INK, GRID = "#1b1f24", "#d0d7de"
COLOURS = {
    "pengaduan": "#0b5cad",
    "wbs": "#8250df",
    "gratifikasi": "#b35900",
    "benturan_kepentingan": "#116329",
    "total": "#57606a",
}
LABEL, BAR, RIGHT, ROW = 210, 380, 110, 26


def channel_name(channel: str, lang: str) -> str:
    if channel == "total":
        return Text("Semua kanal", "All channels").get(lang)
    return CHANNEL_NAMES[CaseType(channel)].get(lang)


def _svg(width: int, height: int, title: str, ident: str, body: list[str]) -> str:
    return "".join(
        [
            f'<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 {width} {height}" '
            f'width="100%" aria-labelledby={quoteattr(ident)} class="chart">',
            f"<title id={quoteattr(ident)}>{escape(title)}</title>",
            *body,
            "</svg>",
        ]
    )


def _text(x: float, y: float, text: str, size: int = 12, anchor: str = "start") -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" fill="{INK}" '
        f"text-anchor={quoteattr(anchor)}>{escape(text)}</text>"
    )


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def shown(value: Any) -> str:
    """A figure as the pages and charts print it (`–` for none, one decimal for ratios)."""
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)


def bars(
    rows: Sequence[tuple[str, Any]],
    *,
    title: str,
    ident: str,
    unit: str = "",
    top: float | None = None,
) -> str:
    """One horizontal bar per row (label, value); non-numbers are written, not drawn."""
    numbers = [n for _, v in rows if (n := _number(v)) is not None]
    scale = top or max(numbers, default=0) or 1
    height = ROW * len(rows) + 12
    body = []
    for i, (label, value) in enumerate(rows):
        y = 6 + i * ROW
        body.append(_text(0, y + 15, label))
        body.append(f'<rect x="{LABEL}" y="{y + 3}" width="{BAR}" height="16" fill="#f6f8fa"/>')
        n = _number(value)
        if n is not None:
            width = max(0.0, min(n / scale, 1.0)) * BAR
            colour = COLOURS.get(label, COLOURS["total"])
            body.append(
                f'<rect x="{LABEL}" y="{y + 3}" width="{width:.1f}" height="16" '
                f"fill={quoteattr(colour)}><title>{escape(label)}: {escape(shown(value))}"
                f"</title></rect>"
            )
        body.append(_text(LABEL + BAR + 6, y + 15, shown(value) + (unit if n is not None else "")))
    return _svg(LABEL + BAR + RIGHT, height, title, ident, body)


def compliance(figures: Mapping[str, Any], lang: str) -> str:
    """Completed within every deadline (%), per channel and in total."""
    rows = [
        (channel_name(c, lang), figures["channels"][c]["completed_on_time_pct"]) for c in CHANNELS
    ]
    rows.append((channel_name("total", lang), figures["total"]["completed_on_time_pct"]))
    title = Text("Selesai tepat waktu (%)", "Completed on time (%)").get(lang)
    return bars(rows, title=title, ident="chart-compliance", unit=" %", top=100.0)


def completion(figures: Mapping[str, Any], lang: str) -> str:
    """Median and P90 working days to completion per channel."""
    rows: list[tuple[str, Any]] = []
    for c in (*CHANNELS, "total"):
        block = figures["total"] if c == "total" else figures["channels"][c]
        rows.append((f"{channel_name(c, lang)} · median", block["completion_wd_median"]))
        rows.append((f"{channel_name(c, lang)} · P90", block["completion_wd_p90"]))
    title = Text("Hari kerja sampai selesai", "Working days to completion").get(lang)
    return bars(rows, title=title, ident="chart-completion", unit=Text(" HK", " WD").get(lang))


def monthly(data: Mapping[str, Any], lang: str) -> str:
    """Reports received per month, one row of columns per channel."""
    months: list[str] = list(data["months"])
    received: Mapping[str, list[int]] = data["received"]
    top = max((n for c in CHANNELS for n in received[c]), default=0) or 1
    col, band, left = 34, 70, LABEL
    width = left + col * len(months) + 20
    body = []
    for row, c in enumerate(CHANNELS):
        base = 10 + row * (band + 20) + band
        body.append(_text(0, base - band / 2, channel_name(c, lang)))
        body.append(
            f'<line x1="{left}" x2="{left + col * len(months)}" y1="{base}" y2="{base}" '
            f'stroke="{GRID}"/>'
        )
        for i, n in enumerate(received[c]):
            h = band * n / top
            x = left + i * col + 4
            body.append(
                f'<rect x="{x}" y="{base - h:.1f}" width="{col - 8}" height="{h:.1f}" '
                f"fill={quoteattr(COLOURS[c])}><title>{escape(months[i])}: {n}</title></rect>"
            )
            if n:
                body.append(_text(x + (col - 8) / 2, base - h - 2, str(n), 10, "middle"))
    axis = 10 + len(CHANNELS) * (band + 20)
    for i, m in enumerate(months):
        body.append(_text(left + i * col + col / 2, axis, m[5:], 10, "middle"))
    title = Text("Laporan diterima per bulan", "Reports received per month").get(lang)
    return _svg(width, axis + 6, title, "chart-monthly", body)
