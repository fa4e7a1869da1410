"""Public warnings as CAP 1.2 messages: built, checked, optionally signed, kept.

A public warning's first message is an Alert; each later change (a level up
or down, the all-clear) is an Update naming every earlier message of the
warning in `<references>`; an operator's cancellation is a Cancel. Every
message passes `xml.publishable()` (schema and profile) before it is stored;
one that does not is an error in our data and raises.
"""

from __future__ import annotations

from datetime import timedelta
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from zhili.warning.cap.model import (
    GEOCODE_GB2260,
    LEVEL_SEVERITY,
    Alert,
    Area,
    Info,
    Reference,
)
from zhili.warning.cap.xml import publishable

LEVEL_NAMES = {1: ("蓝色", "Blue"), 2: ("黄色", "Yellow"), 3: ("橙色", "Orange"), 4: ("红色", "Red")}
URGENCY = {1: "Future", 2: "Expected", 3: "Expected", 4: "Immediate"}
CIRCLE_KM = 0.5  # a risk point without an outline is published as a circle this wide


def sender() -> str:
    return getattr(settings, "ZHILI_CAP_SENDER", "warnings@zhili.invalid")


def site_url() -> str:
    return getattr(settings, "ZHILI_SITE_URL", "http://127.0.0.1:8000").rstrip("/")


def expires_after() -> timedelta:
    return timedelta(hours=int(getattr(settings, "ZHILI_CAP_EXPIRES_HOURS", 24)))


@lru_cache(maxsize=1)
def signing_pair() -> tuple[bytes, bytes] | None:
    """(key, certificate) PEM from ZHILI_CAP_KEY_FILE / ZHILI_CAP_CERT_FILE, or None."""
    key, cert = getattr(settings, "ZHILI_CAP_KEY_FILE", ""), getattr(settings, "ZHILI_CAP_CERT_FILE", "")
    if not (key and cert):
        return None
    return Path(key).read_bytes(), Path(cert).read_bytes()


def _area(warning) -> Area:
    point = warning.risk_point
    grid = point.grid
    polygons = []
    if point.geometry and point.geometry.get("type") == "Polygon":
        polygons = [[(lat, lon) for lon, lat in point.geometry["coordinates"][0]]]
    return Area(
        desc=f"{point.name}（{grid.name}）",
        polygons=polygons,
        circles=[] if polygons else [(point.lat, point.lon, CIRCLE_KM)],
        # The street's GB/T 2260 code (its first 9 digits name the township).
        geocodes=[(GEOCODE_GB2260, grid.code[:9])],
    )


def _infos(warning, *, level: int, all_clear: bool, sent) -> list[Info]:
    point, category = warning.risk_point, warning.risk_point.category
    shown = max(level, 1)
    zh_level, en_level = LEVEL_NAMES[shown]
    measures = (point.measures or {}).get(str(shown)) or category.measures.get(str(shown), {})
    web = f"{site_url()}/cap/alerts/{warning.number}.xml"
    common = dict(categories=[category.cap_category], effective=sent,
                  expires=sent + expires_after(), web=web,
                  event_codes=[("zhili-risk-category", category.code)],
                  parameters=[("level", str(level)), ("warning", warning.number)],
                  areas=[_area(warning)])
    if all_clear:
        return [
            Info(language="zh-CN", event=f"{category.name}预警解除", urgency="Past",
                 severity="Minor", certainty="Observed", headline=f"{point.name}{category.name}预警解除",
                 description=f"{point.name}的{category.name}预警条件已解除。", **common),
            Info(language="en-US", event=f"{category.name_en} warning lifted", urgency="Past",
                 severity="Minor", certainty="Observed",
                 headline=f"{category.name_en} warning lifted at {point.name}",
                 description=f"The {category.name_en.lower()} warning condition at {point.name} "
                             "has cleared.", **common),
        ]
    severity = LEVEL_SEVERITY[shown]
    return [
        Info(language="zh-CN", event=f"{category.name}{zh_level}预警", urgency=URGENCY[shown],
             severity=severity, certainty="Likely",
             headline=f"{point.name}{category.name}{zh_level}预警",
             description=f"{point.name}（{point.grid.name}）达到{category.name}{zh_level}预警等级。",
             instruction=measures.get("zh", ""), **common),
        Info(language="en-US", event=f"{category.name_en} warning, {en_level.lower()}",
             urgency=URGENCY[shown], severity=severity, certainty="Likely",
             headline=f"{en_level} {category.name_en.lower()} warning at {point.name}",
             description=f"{point.name} has reached the {en_level.lower()} level of the "
                         f"{category.name_en.lower()} warning.",
             instruction=measures.get("en", ""), **common),
    ]


def cap_publish(warning, *, msg_type: str | None = None, all_clear: bool = False, now=None):
    """Publish the warning's current state as the next CAP message; returns it.
    Call inside the service's transaction (the message commits with the change)."""
    from zhili.warning.cap import signing
    from zhili.warning.models import CapMessage

    now = (now or timezone.now()).replace(microsecond=0)
    local = timezone.localtime(now)  # CAP times carry the city's offset, +08:00
    earlier = list(CapMessage.objects.filter(warning=warning).order_by("sent", "id"))
    msg_type = msg_type or ("Update" if earlier else "Alert")
    identifier = f"{warning.number}-{len(earlier) + 1}"
    alert = Alert(
        identifier=identifier, sender=sender(), sent=local, status="Actual", msg_type=msg_type,
        scope="Public",
        references=[Reference(sender(), m.identifier, timezone.localtime(m.sent)) for m in earlier],
        incidents=warning.number,
        infos=_infos(warning, level=warning.level, all_clear=all_clear,
                     sent=local),
    )
    document = publishable(alert)
    pair = signing_pair()
    if pair is not None:
        document = signing.sign(document, key_pem=pair[0], cert_pem=pair[1])
    return CapMessage.objects.create(warning=warning, identifier=identifier, sent=now,
                                     msg_type=msg_type, document=document)
