"""Reading an import file (CSV or a GeoJSON FeatureCollection) into labelled rows.

The apps' import commands (risk points, rescue resources) check their own
fields; what every one of them needs first is the same: decoding, the
header, the row limit, the FeatureCollection envelope, and a label per row
("row 7", "feature 3") for the list of problems a dry run prints.
"""

from __future__ import annotations

import csv
import io
import json


def _text(data: bytes, problems: list[str]) -> str | None:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        problems.append(f"the file is not UTF-8: {exc}")
        return None


def csv_rows(data: bytes, *, required: set[str], max_rows: int,
             problems: list[str]) -> list[tuple[str, dict]]:
    """("row N", {column: text}) per data row (N counts the header as row 1)."""
    text = _text(data, problems)
    if text is None:
        return []
    reader = csv.DictReader(io.StringIO(text))
    missing = required - set(reader.fieldnames or [])
    if missing:
        problems.append(f"the header lacks {', '.join(sorted(missing))}")
        return []
    rows = []
    for n, row in enumerate(reader, start=2):
        if n - 1 > max_rows:
            problems.append(f"more than {max_rows:,} rows")
            break
        rows.append((f"row {n}", dict(row)))
    return rows


def geojson_features(data: bytes, *, max_rows: int,
                     problems: list[str]) -> list[tuple[str, object]]:
    """("feature N", feature) of a FeatureCollection; the features are not checked."""
    text = _text(data, problems)
    if text is None:
        return []
    try:
        document = json.loads(text)
    except (ValueError, RecursionError) as exc:
        problems.append(f"not GeoJSON: {str(exc)[:200]}")
        return []
    features = document.get("features") if isinstance(document, dict) else None
    if not isinstance(features, list) or document.get("type") != "FeatureCollection":
        problems.append("not a GeoJSON FeatureCollection")
        return []
    if len(features) > max_rows:
        problems.append(f"more than {max_rows:,} features")
        return []
    return [(f"feature {n}", feature) for n, feature in enumerate(features)]
