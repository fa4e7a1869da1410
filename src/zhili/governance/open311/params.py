"""Parsing GeoReport v2 parameters: W3C datetimes, comma lists, locations, attributes.

Each parser raises `BadParam` with a sentence naming the parameter; the views
turn it into the spec's 400 error. Nothing here touches the database.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta
from datetime import timezone as dt_timezone

from django.utils import timezone

from zhili.governance.attributes import attribute_values


class BadParam(Exception):
    """A parameter the client must fix (400); `args` are one sentence per problem."""


# W3C-DTF (https://www.w3.org/TR/NOTE-datetime): YYYY, YYYY-MM, YYYY-MM-DD, or a date with
# hh:mm[:ss[.s]] and a zone designator (Z or ±hh:mm), which the note requires with a time.
_W3 = re.compile(
    r"^(?P<y>\d{4})(?:-(?P<m>\d{2})(?:-(?P<d>\d{2})"
    r"(?:T(?P<H>\d{2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:\.(?P<f>\d{1,9}))?)?"
    r"(?P<tz>Z|[+-]\d{2}:\d{2}))?)?)?$"
)


# Far enough inside datetime's range that zone changes and the 90-day window never overflow.
MIN_YEAR, MAX_YEAR = 1900, 9998


def parse_w3(name: str, text: str, *, end_of_period: bool = False) -> datetime:
    """A W3C datetime; a bare date (or month, or year) is read in the city's time zone.

    With `end_of_period`, a bare date means the end of that day (month, year), so
    `end_date=2026-03-05` includes the 5th.
    """
    raw = text.strip()
    # An unencoded "+" in a query string arrives as a space: "…T08:00:00 08:00".
    raw = re.sub(r" (\d{2}:\d{2})$", r"+\1", raw)
    match = _W3.match(raw)
    if not match:
        raise BadParam(f"{name} must be a W3C datetime such as 2026-03-05T08:15:30+08:00 "
                       f"or 2026-03-05T00:15:30Z")
    g = match.groupdict()
    if not MIN_YEAR <= int(g["y"]) <= MAX_YEAR:
        raise BadParam(f"{name} must lie between the years {MIN_YEAR} and {MAX_YEAR}")
    try:
        if g["H"] is not None:
            fraction = (g["f"] or "0")[:6].ljust(6, "0")
            tz = UTC if g["tz"] == "Z" else _offset(g["tz"])
            return datetime(int(g["y"]), int(g["m"]), int(g["d"]), int(g["H"]), int(g["M"]),
                            int(g["S"] or 0), int(fraction), tzinfo=tz)
        year, month, day = int(g["y"]), int(g["m"] or 1), int(g["d"] or 1)
        start = datetime(year, month, day)
        if end_of_period:
            if g["d"]:
                start += timedelta(days=1)
            elif g["m"]:
                start = datetime(year + month // 12, month % 12 + 1, 1)
            else:
                start = datetime(year + 1, 1, 1)
            start -= timedelta(microseconds=1)
        return timezone.make_aware(start)
    except (ValueError, OverflowError):
        raise BadParam(f"{name} is not a real date and time: {text!r}") from None


def _offset(text: str) -> dt_timezone:
    sign = 1 if text[0] == "+" else -1
    hours, minutes = int(text[1:3]), int(text[4:6])
    if hours > 23 or minutes > 59:
        raise ValueError(text)
    return dt_timezone(sign * timedelta(hours=hours, minutes=minutes))


def comma_list(params, name: str, *, limit: int = 1000) -> list[str]:
    """Values of a parameter that may be comma-delimited and/or repeated."""
    values = []
    for raw in params.getlist(name):
        values.extend(v.strip() for v in raw.split(","))
    values = list(dict.fromkeys(v for v in values if v))  # keep order, drop repeats
    if len(values) > limit:
        raise BadParam(f"{name} lists {len(values)} values; at most {limit}")
    return values


def coordinate(params, name: str, low: float, high: float) -> float | None:
    raw = (params.get(name) or "").strip()
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        raise BadParam(f"{name} must be a number in WGS84 degrees, not {raw[:40]!r}") from None
    if not math.isfinite(value) or not low <= value <= high:
        raise BadParam(f"{name} must lie between {low:g} and {high:g}")
    return value


MAX_ATTRIBUTE_CHARS = 1000


def raw_attributes(params) -> dict[str, list[str]]:
    """attribute[code]=v and attribute[code][]=v1&attribute[code][]=v2, as {code: [values]}."""
    found, malformed = attribute_values(params)
    if malformed:
        raise BadParam(f"{malformed[0][:80]} is not of the form attribute[code]=value")
    return found


def check_attributes(definitions: list[dict], given: dict[str, list[str]]) -> dict:
    """Validate answers against a service definition; return {code: value or [values]}."""
    problems: list[str] = []
    by_code = {a["code"]: a for a in definitions}
    unknown = sorted(set(given) - set(by_code))
    if unknown:
        problems.append(f"attribute[{unknown[0]}] is not an attribute of this service"
                        + (f" (nor {', '.join(unknown[1:])})" if len(unknown) > 1 else ""))
    answers: dict = {}
    for attr in definitions:
        if not attr["variable"]:
            continue  # informational only; nothing to answer
        code, datatype = attr["code"], attr["datatype"]
        values = given.get(code, [])
        if not values:
            if attr["required"]:
                problems.append(f"attribute[{code}] is required ({attr['description']})")
            continue
        if datatype != "multivaluelist" and len(values) > 1:
            problems.append(f"attribute[{code}] takes one value")
            continue
        if any(len(v) > MAX_ATTRIBUTE_CHARS for v in values):
            problems.append(f"attribute[{code}] is longer than {MAX_ATTRIBUTE_CHARS} characters")
            continue
        keys = [str(v["key"]) for v in attr["values"]]
        value = values[0]
        if datatype == "multivaluelist":
            bad = [v for v in values if v not in keys]
            if bad:
                problems.append(f"attribute[{code}] has no option {bad[0]!r}; options: "
                                + ", ".join(keys))
            else:
                answers[code] = values
        elif datatype == "singlevaluelist":
            if value not in keys:
                problems.append(f"attribute[{code}] has no option {value!r}; options: "
                                + ", ".join(keys))
            else:
                answers[code] = value
        elif datatype == "number":
            try:
                number = float(value)
                if not math.isfinite(number):
                    raise ValueError
            except ValueError:
                problems.append(f"attribute[{code}] must be a number")
            else:
                answers[code] = value.strip()
        elif datatype == "datetime":
            try:
                answers[code] = parse_w3(f"attribute[{code}]", value).isoformat()
            except BadParam as exc:
                problems.append(str(exc))
        elif datatype == "string" and ("\n" in value or "\r" in value):
            problems.append(f"attribute[{code}] must be one line (datatype string)")
        else:
            answers[code] = value
    if problems:
        raise BadParam(*problems)
    return answers
