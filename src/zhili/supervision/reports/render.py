"""A report's figures as HTML, PDF (WeasyPrint) and CSV, in one language.

The PDF is the HTML document printed: `@page` margin boxes do not inherit the
body's font, so the CJK family is named there too, or the footer falls back
to a font without Chinese. Nothing is fetched while rendering (offline).
Long tables are cut in the PDF and go in full in the CSV.
"""

from __future__ import annotations

import csv
import io

from django.template.loader import render_to_string
from django.utils import translation
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from zhili.supervision.reports.builders import TABLE_ROWS_IN_PDF
from zhili.supervision.reports.charts import bars_svg


def lang_key(language: str) -> str:
    return "en" if (language or "").startswith("en") else "zh"


def _pick(label, key: str) -> str:
    if isinstance(label, dict):
        return label.get(key) or label.get("zh") or ""
    return "" if label is None else str(label)


def value_text(value, unit: str, reason: str = "") -> str:
    if value is None:
        return _("— (%(why)s)") % {"why": reason or _("nothing to measure")}
    if unit == "share":
        return f"{value * 100:.1f}%"
    if unit == "minutes":
        return _("%(n)s min") % {"n": f"{value:g}"}
    if unit == "score":
        return f"{value:.2f}"
    return f"{value:,}" if isinstance(value, int) else f"{value:g}"


def present(data: dict, language: str) -> dict:
    """The archived figures as the template shows them, in `language`."""
    key = lang_key(language)
    with translation.override("en" if key == "en" else "zh-hans"):
        tables = []
        for table in data.get("tables", []):
            rows = table["rows"]
            tables.append({"label": _pick(table["label"], key),
                           "columns": [_pick(c, key) for c in table["columns"]],
                           "rows": [[_cell(c) for c in row] for row in rows[:TABLE_ROWS_IN_PDF]],
                           "more": max(0, len(rows) - TABLE_ROWS_IN_PDF), "total": len(rows)})
        return {
            "title": _pick(data["title"], key),
            "area": _pick(data["area"]["name"], key), "area_code": data["area"]["code"],
            "start": data["period"]["start"], "end": data["period"]["end"],
            "empty": data.get("empty"), "empty_reason": _pick(data.get("empty_reason"), key),
            "figures": [{"label": _pick(f["label"], key),
                         "value": value_text(f["value"], f["unit"], _pick(f.get("reason"), key))}
                        for f in data.get("figures", [])],
            "charts": [{"label": _pick(c["label"], key),
                        "svg": mark_safe(bars_svg([(_pick(n, key), v) for n, v in c["bars"]],  # noqa: S308 (escaped in bars_svg)
                                                  unit=c["unit"], title=_pick(c["label"], key)))}
                       for c in data.get("charts", [])],
            "tables": tables, "notes": [_pick(n, key) for n in data.get("notes", [])],
            "has_csv": any(t["rows"] for t in data.get("tables", [])),
            "language": "en" if key == "en" else "zh-hans",
        }


def _cell(value):
    if isinstance(value, float):
        return f"{value:.4g}"
    return "—" if value is None else value


def report_document(data: dict, language: str) -> str:
    view = present(data, language)
    with translation.override(view["language"]):
        return render_to_string("supervision/report_document.html", {"r": view})


def _no_fetch(url, *args, **kwargs):
    raise ValueError(f"reports fetch nothing ({url})")


def report_pdf(data: dict, language: str) -> bytes:
    from weasyprint import HTML

    return HTML(string=report_document(data, language), url_fetcher=_no_fetch).write_pdf()


def report_csv(data: dict, language: str) -> bytes:
    """Every table in full, one block each; UTF-8 with a BOM so spreadsheets read Chinese."""
    key = lang_key(language)
    out = io.StringIO()
    writer = csv.writer(out)
    for table in data.get("tables", []):
        writer.writerow([_pick(table["label"], key)])
        writer.writerow([_pick(c, key) for c in table["columns"]])
        for row in table["rows"]:
            writer.writerow(["" if c is None else _safe_cell(c) for c in row])
        writer.writerow([])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _safe_cell(value):
    """A text starting with = + - @ would run as a formula in a spreadsheet."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value
