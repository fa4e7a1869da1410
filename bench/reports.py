#!/usr/bin/env python
"""A district's street ranking as PDF: the report as made (25 rows + CSV) against the
whole table printed, for the 1,031 streets of the city.

    .venv/bin/python bench/reports.py [--rows 1031] [--rounds 3]

No database: the report's figures are built synthetically in the shape the
street-ranking builder stores (figures, a 15-bar chart, one table of `--rows`
rows) and rendered the way the pipeline renders them (`reports.render`:
WeasyPrint for each language, the CSV of the full table). `ratio_full_vs_made`
is how much longer printing the whole table would take; the promise behind
the design is that a report stays a few seconds whatever the table's length.
Prints one JSON line: seconds (median of rounds) for the report as made and
with the whole table, the PDFs' page counts, the CSV's size.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out" / "reports"
sys.path.insert(0, str(ROOT / "bench"))


def notebook(rows: int):
    from zhili.supervision.reports.builders import Report

    class Street:
        code, name, name_en, level = "500103000000", "渝中区", "Yuzhong", "district"

    book = Report("street_ranking", Street, "month", date(2026, 11, 1))
    book.figure("Streets ranked", rows)
    book.chart("Resolved on time, by street",
               [({"zh": f"街道{i}", "en": f"Street {i}"}, 0.99 - i / 100) for i in range(15)],
               "share")
    book.table("Ranking", ["Rank", "Street", "Cases", "Resolved on time", "Satisfaction"],
               [[i + 1, f"第{i + 1}街道", 1000 - i % 700, round(0.99 - i / (rows * 2), 4),
                 round(4.8 - i / (rows * 3), 2)] for i in range(rows)])
    return book.data


def timed(fn, rounds: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(rounds):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1031)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    os.environ.update(ZHILI_DATA_DIR=str(OUT), DJANGO_SETTINGS_MODULE="zhili.settings",
                      ZHILI_DATABASE_URL=f"sqlite:///{OUT / 'unused.db'}")
    import django

    django.setup()
    from locate import machine
    from pypdf import PdfReader

    from zhili.supervision.reports import render

    data = notebook(args.rows)

    def as_made():
        return [render.report_pdf(data, lang) for lang in ("zh-hans", "en")], \
            render.report_csv(data, "zh-hans")

    def whole_table():
        cut = render.TABLE_ROWS_IN_PDF
        render.TABLE_ROWS_IN_PDF = args.rows + 1  # print every row
        try:
            return [render.report_pdf(data, lang) for lang in ("zh-hans", "en")]
        finally:
            render.TABLE_ROWS_IN_PDF = cut

    print(f"rendering {args.rows} rows, {args.rounds} rounds …", file=sys.stderr)
    made_s, (made_pdfs, csv) = timed(as_made, args.rounds)
    full_s, full_pdfs = timed(whole_table, max(1, args.rounds // 2))

    def pages(pdf: bytes) -> int:
        return len(PdfReader(io.BytesIO(pdf)).pages)

    print(json.dumps({
        "bench": "reports", "rows": args.rows,
        "made_s": round(made_s, 3), "whole_table_s": round(full_s, 3),
        "ratio_full_vs_made": round(full_s / made_s, 2),
        "pages_made": pages(made_pdfs[0]), "pages_whole_table": pages(full_pdfs[0]),
        "csv_bytes": len(csv), "languages": 2, "machine": machine(),
    }, ensure_ascii=False))


if __name__ == "__main__":
    main()
