"""Bar charts as SVG made by hand: no script, no fonts embedded, the CJK font by name.

The same markup goes inline into the page and into the PDF (WeasyPrint draws
SVG itself), so the chart in the archive is the chart on screen.
"""

from __future__ import annotations

from xml.sax.saxutils import escape

FONT = "Noto Sans CJK SC, Noto Sans SC, sans-serif"
WIDTH, BAR, GAP, LABEL_W, VALUE_W = 620, 16, 6, 170, 60


def bars_svg(bars: list[tuple[str, float]], *, unit: str = "count", title: str = "") -> str:
    """Horizontal bars, one row per (label, value); values of unit "share" shown as %."""
    if not bars:
        return ""
    top = max((v or 0) for _, v in bars) or 1
    span = WIDTH - LABEL_W - VALUE_W
    height = len(bars) * (BAR + GAP) + GAP
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
             f'viewBox="0 0 {WIDTH} {height}" role="img" aria-label="{escape(title, {chr(34): "&quot;"})}" '
             f'font-family="{FONT}" font-size="11">']
    for i, (label, value) in enumerate(bars):
        y = GAP + i * (BAR + GAP)
        w = max(0.0, (value or 0) / top * span)
        shown = f"{(value or 0) * 100:.1f}%" if unit == "share" else f"{value:g}"
        parts.append(f'<text x="{LABEL_W - 6}" y="{y + BAR - 4}" text-anchor="end">'
                     f'{escape(str(label)[:24])}</text>')
        parts.append(f'<rect x="{LABEL_W}" y="{y}" width="{w:.1f}" height="{BAR}" '
                     f'fill="#1f6feb"/>')
        parts.append(f'<text x="{LABEL_W + w + 4:.1f}" y="{y + BAR - 4}">{shown}</text>')
    parts.append("</svg>")
    return "".join(parts)
