"""Server-rendered SVG: each area part's score against its WBK and WBBM minimums (no scripts)."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from xml.sax.saxutils import escape, quoteattr

from wbs.zi.ruleset import RuleSet
from wbs.zi.scoring import Evaluation, shown

ROW, LABEL, BAR, RIGHT = 30, 250, 360, 70
COLOURS = {"WBBM": "#116329", "WBK": "#b35900", None: "#a40e26"}


def _x(value: Fraction | Decimal, weight: Decimal) -> str:
    share = Fraction(value) / Fraction(weight) if weight else Fraction(0)
    return f"{LABEL + float(share) * BAR:.1f}"


def area_chart(rules: RuleSet, ev: Evaluation, title: str) -> str:
    """One bar per area part, scaled to its weight, with tick lines at the minimums."""
    rows = list(rules.area_parts())
    height = ROW * len(rows) + 40
    width = LABEL + BAR + RIGHT
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 {width} {height}" '
        f'width="100%" aria-labelledby="zi-chart-title">',
        f'<title id="zi-chart-title">{escape(title)}</title>',
    ]
    for n, (part, area) in enumerate(rows):
        y = 10 + n * ROW
        score = ev.areas[area.code]
        minimum = area.minimum or {}
        level = next((p for p in ("WBBM", "WBK") if p in minimum and score >= minimum[p]), None)
        label = f"{area.code} {area.name} ({part.name})"
        if len(label) > 40:
            label = label[:39] + "…"
        out.append(f'<text x="0" y="{y + 15}" font-size="12" fill="#1b1f24">{escape(label)}</text>')
        out.append(f'<rect x="{LABEL}" y="{y + 2}" width="{BAR}" height="18" fill="#eaeef2"/>')
        fill_width = float(Fraction(score) / Fraction(area.weight)) * BAR if area.weight else 0
        colour = COLOURS[level] if minimum else "#0b5cad"
        out.append(
            f'<rect x="{LABEL}" y="{y + 2}" width="{fill_width:.1f}" height="18" '
            f"fill={quoteattr(colour)}/>"
        )
        for predicate, dash in (("WBK", "4 2"), ("WBBM", "")):
            if predicate in minimum:
                x = _x(minimum[predicate], area.weight)
                dashes = f" stroke-dasharray={quoteattr(dash)}" if dash else ""
                out.append(
                    f'<line x1="{x}" x2="{x}" y1="{y}" y2="{y + 22}" stroke="#1b1f24" '
                    f'stroke-width="2"{dashes}>'
                    f"<title>{predicate} {minimum[predicate]}</title></line>"
                )
        out.append(
            f'<text x="{LABEL + BAR + 6}" y="{y + 15}" font-size="12" fill="#1b1f24">'
            f"{shown(score)}/{area.weight}</text>"
        )
    y = 10 + len(rows) * ROW + 12
    out.append(
        f'<line x1="{LABEL}" x2="{LABEL + 20}" y1="{y}" y2="{y}" stroke="#1b1f24" '
        f'stroke-width="2" stroke-dasharray="4 2"/>'
        f'<text x="{LABEL + 26}" y="{y + 4}" font-size="11">min WBK</text>'
        f'<line x1="{LABEL + 110}" x2="{LABEL + 130}" y1="{y}" y2="{y}" stroke="#1b1f24" '
        f'stroke-width="2"/><text x="{LABEL + 136}" y="{y + 4}" font-size="11">'
        f"min WBBM</text>"
    )
    out.append("</svg>")
    return "".join(out)
