"""GeoReport v2 output: one structure, rendered as XML or JSON.

The spec's JSON is the "Spark convention" mapping of its XML: a list of
repeated elements (`<services><service>…`) becomes a JSON array, an element
with children becomes an object, an empty element becomes null. So each
response is built once as Python values and `Many(item_tag, items)` marks the
repeated elements; `render()` writes either form.

XML is built with xml.etree (text is escaped by the serializer, never pasted
into markup), and characters XML 1.0 cannot carry are dropped first, so a
case description can neither break nor inject into the document.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from xml.etree import ElementTree as ET

from django.http import HttpResponse
from django.utils import timezone

XML_CONTENT_TYPE = "text/xml; charset=utf-8"
JSON_CONTENT_TYPE = "application/json; charset=utf-8"
XML_DECLARATION = '<?xml version="1.0" encoding="utf-8"?>\n'
FORMATS = ("xml", "json")

# Everything outside XML 1.0's Char production (C0 controls but tab/LF/CR, surrogates, FFFE/FFFF).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


@dataclass(frozen=True)
class Many:
    """Repeated child elements named `item` (a JSON array)."""

    item: str
    items: list


def w3(value: datetime | None) -> str | None:
    """W3C-DTF with seconds and the offset, in the city's time: 2026-03-05T08:15:30+08:00."""
    if value is None:
        return None
    return timezone.localtime(value).isoformat(timespec="seconds")


def _text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return _NOT_XML.sub("", str(value))


def _fill(element: ET.Element, value) -> None:
    if value is None:
        return
    if isinstance(value, Many):
        for item in value.items:
            child = ET.SubElement(element, value.item)
            _fill(child, item)
    elif isinstance(value, dict):
        for tag, child_value in value.items():
            child = ET.SubElement(element, tag)
            _fill(child, child_value)
    else:
        element.text = _text(value)


def to_xml(root: str, value) -> str:
    element = ET.Element(root)
    _fill(element, value)
    return XML_DECLARATION + ET.tostring(element, encoding="unicode")


def _plain(value):
    if isinstance(value, Many):
        return [_plain(v) for v in value.items]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, str):
        return _NOT_XML.sub("", value)
    return value


def to_json(value) -> str:
    return json.dumps(_plain(value), ensure_ascii=False)


def render(fmt: str, root: str, value, status: int = 200) -> HttpResponse:
    if fmt == "json":
        return HttpResponse(to_json(value), status=status, content_type=JSON_CONTENT_TYPE)
    return HttpResponse(to_xml(root, value), status=status, content_type=XML_CONTENT_TYPE)


def errors(fmt: str, status: int, *descriptions: str) -> HttpResponse:
    """The spec's error array; each error's code is the HTTP status."""
    items = [{"code": status, "description": str(d)} for d in descriptions]
    return render(fmt, "errors", Many("error", items), status=status)
