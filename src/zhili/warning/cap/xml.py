"""CAP 1.2 alerts to XML and back, each checked before it leaves or is trusted.

`render()` writes an `Alert` in the schema's element order; `check()` runs the
OASIS schema (compiled once per process) and then the profile rules the schema
does not enforce; `parse()` reads untrusted bytes (no entities, no network,
no DTD) and returns the alert only when both pass, otherwise raises
`CapInvalid` listing every reason.
"""

from __future__ import annotations

import re
from datetime import datetime
from functools import lru_cache
from pathlib import Path

from lxml import etree

from zhili.warning.cap.model import NS, Alert, Area, Info, Reference

XSD = Path(__file__).resolve().parent.parent / "data" / "CAP-v1.2.xsd"
_C = f"{{{NS}}}"
MAX_BYTES = 1_000_000


class CapInvalid(ValueError):
    """An alert that fails the schema or the profile; `reasons` says each way."""

    def __init__(self, reasons: list[str]):
        self.reasons = reasons
        super().__init__("; ".join(reasons))


@lru_cache(maxsize=1)
def schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(XSD)))


def _parser() -> etree.XMLParser:
    # Outside input: no entity expansion, no DTD, nothing fetched.
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                           dtd_validation=False, huge_tree=False, remove_comments=True)


def cap_time(moment: datetime) -> str:
    """CAP's dateTime: seconds, and a numeric offset (`+08:00`), never `Z`."""
    if moment.tzinfo is None:
        raise ValueError("CAP times must carry their offset")
    return moment.replace(microsecond=0).isoformat()  # isoformat writes UTC as +00:00


def _number(x: float) -> str:
    return f"{x:.6f}".rstrip("0").rstrip(".")  # 6 decimals: about 0.1 m


def _point(lat: float, lon: float) -> str:
    return f"{_number(lat)},{_number(lon)}"


def _sub(parent, tag: str, text: str | None = None):
    node = etree.SubElement(parent, _C + tag)
    if text is not None:
        node.text = text
    return node


def _pairs(parent, tag: str, pairs) -> None:
    for name, value in pairs:
        node = _sub(parent, tag)
        _sub(node, "valueName", name)
        _sub(node, "value", value)


def render(alert: Alert) -> bytes:
    """The alert as CAP 1.2 XML (UTF-8, with declaration), in schema order."""
    root = etree.Element(_C + "alert", nsmap={None: NS})
    for tag, value in (("identifier", alert.identifier), ("sender", alert.sender),
                       ("sent", cap_time(alert.sent)), ("status", alert.status),
                       ("msgType", alert.msg_type), ("scope", alert.scope)):
        _sub(root, tag, value)
    if alert.restriction:
        _sub(root, "restriction", alert.restriction)
    if alert.addresses:
        _sub(root, "addresses", alert.addresses)
    if alert.note:
        _sub(root, "note", alert.note)
    if alert.references:
        _sub(root, "references", " ".join(f"{r.sender},{r.identifier},{cap_time(r.sent)}"
                                          for r in alert.references))
    if alert.incidents:
        _sub(root, "incidents", alert.incidents)
    for info in alert.infos:
        node = _sub(root, "info")
        _sub(node, "language", info.language)
        for category in info.categories:
            _sub(node, "category", category)
        _sub(node, "event", info.event)
        for tag in ("urgency", "severity", "certainty"):
            _sub(node, tag, getattr(info, tag))
        _pairs(node, "eventCode", info.event_codes)
        for tag in ("effective", "onset", "expires"):
            if getattr(info, tag):
                _sub(node, tag, cap_time(getattr(info, tag)))
        for tag, attr in (("senderName", "sender_name"), ("headline", "headline"),
                          ("description", "description"), ("instruction", "instruction"),
                          ("web", "web"), ("contact", "contact")):
            if getattr(info, attr):
                _sub(node, tag, getattr(info, attr))
        _pairs(node, "parameter", info.parameters)
        for area in info.areas:
            area_node = _sub(node, "area")
            _sub(area_node, "areaDesc", area.desc)
            for ring in area.polygons:
                _sub(area_node, "polygon", " ".join(_point(lat, lon) for lat, lon in ring))
            for lat, lon, radius in area.circles:
                _sub(area_node, "circle", f"{_point(lat, lon)} {_number(radius)}")
            _pairs(area_node, "geocode", area.geocodes)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


# ---------------------------------------------------------------- profile rules
_POINT = re.compile(r"^\s*(-?\d+(?:\.\d+)?),(-?\d+(?:\.\d+)?)\s*$")


def _coordinates(text: str, where: str, reasons: list[str]) -> list[tuple[float, float]]:
    out = []
    for pair in text.split():
        match = _POINT.match(pair)
        if not match:
            reasons.append(f"{where}: {pair!r} is not 'lat,lon'")
            continue
        lat, lon = float(match[1]), float(match[2])
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            reasons.append(f"{where}: {pair!r} is outside lat -90…90, lon -180…180 (lat comes first)")
        out.append((lat, lon))
    return out


def _profile(root, reasons: list[str]) -> None:
    """Rules of the CAP profiles alert hubs apply (Google Public Alerts' list)
    that the OASIS schema leaves open."""

    def text(node, tag):
        found = node.find(_C + tag)
        return found.text.strip() if found is not None and found.text else ""

    msg_type, scope = text(root, "msgType"), text(root, "scope")
    if msg_type in ("Update", "Cancel", "Ack", "Error") and not text(root, "references"):
        reasons.append(f"alert: a {msg_type} must name the messages it refers to in <references>")
    for ref in text(root, "references").split():
        if ref.count(",") != 2:
            reasons.append(f"references: {ref!r} is not 'sender,identifier,sent'")
    if text(root, "restriction") and scope != "Restricted":
        reasons.append("alert: <restriction> is only for scope Restricted")
    if scope == "Restricted" and not text(root, "restriction"):
        reasons.append("alert: scope Restricted needs a <restriction>")
    if scope == "Private" and not text(root, "addresses"):
        reasons.append("alert: scope Private needs <addresses>")
    infos = root.findall(_C + "info")
    if not infos and msg_type not in ("Ack", "Error"):
        reasons.append("alert: at least one <info> is required")
    for i, info in enumerate(infos, 1):
        where = f"info {i}"
        for tag in ("description", "web", "expires"):
            if not text(info, tag):
                reasons.append(f"{where}: <{tag}> is required")
        sent = text(root, "sent")
        moments = {tag: text(info, tag) for tag in ("effective", "onset", "expires")}
        try:
            sent_at = datetime.fromisoformat(sent) if sent else None
            expires = datetime.fromisoformat(moments["expires"]) if moments["expires"] else None
            start = moments["effective"] or moments["onset"]
            begins = datetime.fromisoformat(start) if start else sent_at
            if expires and begins and expires <= begins:
                reasons.append(f"{where}: <expires> must come after <effective>/<sent>")
        except ValueError:
            pass  # the schema has already said which time is malformed
        areas = info.findall(_C + "area")
        if not areas:
            reasons.append(f"{where}: at least one <area> is required")
        for j, area in enumerate(areas, 1):
            at = f"{where}, area {j}"
            if not (area.findall(_C + "polygon") or area.findall(_C + "circle")
                    or area.findall(_C + "geocode")):
                reasons.append(f"{at}: needs a polygon, a circle or a geocode")
            for polygon in area.findall(_C + "polygon"):
                ring = _coordinates(polygon.text or "", f"{at}, polygon", reasons)
                if len(ring) < 4:
                    reasons.append(f"{at}, polygon: needs at least 4 points, first and last equal")
                elif ring[0] != ring[-1]:
                    reasons.append(f"{at}, polygon: not closed (the last point must repeat the first)")
            for circle in area.findall(_C + "circle"):
                parts = (circle.text or "").split()
                if len(parts) != 2:
                    reasons.append(f"{at}, circle: must be 'lat,lon radius_km'")
                    continue
                _coordinates(parts[0], f"{at}, circle", reasons)
                try:
                    if float(parts[1]) < 0:
                        raise ValueError
                except ValueError:
                    reasons.append(f"{at}, circle: radius {parts[1]!r} is not a distance in km")


def check(document: bytes) -> list[str]:
    """Every reason the document is not a publishable CAP 1.2 alert ([] if none)."""
    if len(document) > MAX_BYTES:
        return [f"the document is larger than {MAX_BYTES:,} bytes"]
    try:
        root = etree.fromstring(document, _parser())
    except etree.XMLSyntaxError as exc:
        return [f"not well-formed XML: {exc}"]
    if root.getroottree().docinfo.doctype:
        return ["a CAP alert has no DOCTYPE (entities and DTDs are refused)"]
    if root.tag != _C + "alert":
        return [f"the root element must be <alert> in {NS}, not {root.tag}"]
    validator = schema()
    reasons = []
    try:
        valid = validator.validate(etree.ElementTree(root))
    except etree.XMLSchemaValidateError as exc:
        return [f"the schema could not check it: {exc}"]
    if not valid:
        reasons += [f"line {e.line}: {e.message}" for e in validator.error_log]
    _profile(root, reasons)
    return reasons


def parse(document: bytes) -> Alert:
    """Read an untrusted alert: checked in full, then turned into data."""
    reasons = check(document)
    if reasons:
        raise CapInvalid(reasons)
    root = etree.fromstring(document, _parser())

    def text(node, tag):
        found = node.find(_C + tag)
        return found.text.strip() if found is not None and found.text else ""

    def when(node, tag):
        value = text(node, tag)
        return datetime.fromisoformat(value) if value else None

    def pairs(node, tag):
        return [(text(p, "valueName"), text(p, "value")) for p in node.findall(_C + tag)]

    references = []
    for ref in text(root, "references").split():
        sender, identifier, sent = ref.split(",")
        references.append(Reference(sender, identifier, datetime.fromisoformat(sent)))
    infos = []
    for info in root.findall(_C + "info"):
        areas = []
        for area in info.findall(_C + "area"):
            polygons = [_coordinates(p.text or "", "", []) for p in area.findall(_C + "polygon")]
            circles = []
            for c in area.findall(_C + "circle"):
                centre, radius = (c.text or "").split()
                (lat, lon), = _coordinates(centre, "", [])
                circles.append((lat, lon, float(radius)))
            areas.append(Area(text(area, "areaDesc"), polygons, circles, pairs(area, "geocode")))
        infos.append(Info(
            event=text(info, "event"), urgency=text(info, "urgency"),
            severity=text(info, "severity"), certainty=text(info, "certainty"),
            categories=[c.text for c in info.findall(_C + "category")],
            language=text(info, "language") or "en-US", effective=when(info, "effective"),
            onset=when(info, "onset"), expires=when(info, "expires"),
            sender_name=text(info, "senderName"), headline=text(info, "headline"),
            description=text(info, "description"), instruction=text(info, "instruction"),
            web=text(info, "web"), contact=text(info, "contact"),
            parameters=pairs(info, "parameter"), event_codes=pairs(info, "eventCode"), areas=areas))
    return Alert(identifier=text(root, "identifier"), sender=text(root, "sender"),
                 sent=when(root, "sent"), status=text(root, "status"),
                 msg_type=text(root, "msgType"), scope=text(root, "scope"),
                 restriction=text(root, "restriction"), addresses=text(root, "addresses"),
                 note=text(root, "note"), references=references,
                 incidents=text(root, "incidents"), infos=infos)


def publishable(alert: Alert) -> bytes:
    """Render and check; raise CapInvalid rather than publish a bad alert."""
    document = render(alert)
    reasons = check(document)
    if reasons:
        raise CapInvalid(reasons)
    return document
