"""The seeded taxonomy of case categories on the four boards.

Each entry: code, Chinese and English names, board, lead department and
cooperating ones (codes from `accounts.services.DEPARTMENTS`), priority
(1 = most urgent), time limits in minutes for accepting, arriving and
resolving, minutes before an overdue case climbs one more rung, the duplicate
radius (m) and window (h), and for some the Open311 attributes asked at intake.

`category_seed()` adds what is missing and never overwrites: once seeded, a
category belongs to the administrators, who edit it in Django admin.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from django.db import transaction
from django.utils.translation import gettext as _

from zhili.core.errors import FieldError, ValidationFailed
from zhili.governance.models import Board, DisputeType

LIV, ECO, SAF, PTY = (Board.LIVELIHOOD_SERVICES, Board.ECONOMIC_DEVELOPMENT,
                      Board.SAFETY_RULE_OF_LAW, Board.PARTY_BUILDING)


@dataclass(frozen=True)
class Spec:
    code: str
    name: str
    name_en: str
    board: str
    lead: str | None
    cooperating: tuple[str, ...] = ()
    priority: int = 3
    limits: tuple[int, int, int] = (60, 240, 2880)  # accept, arrive, resolve (minutes)
    escalate: int = 240
    duplicate: tuple[int, int] = (50, 24)  # radius m, window h
    dispute: str | None = None  # the DisputeType of a dispute category
    attributes: list = field(default_factory=list)


def choice(code: str, description: tuple[str, str], values: list[tuple[str, str, str]], *,
           required=False, order=1) -> dict:
    """An Open311 singlevaluelist attribute; texts in Chinese, with `*_en` beside them."""
    return {"variable": True, "code": code, "datatype": "singlevaluelist", "required": required,
            "datatype_description": "", "order": order, "description": description[0],
            "description_en": description[1],
            "values": [{"key": k, "name": zh, "name_en": en} for k, zh, en in values]}


def number(code: str, description: tuple[str, str], *, required=False, order=1, minimum=0,
           maximum=None) -> dict:
    """A number answer; counts and sizes are never negative, so `minimum` is 0 unless set."""
    hint = (f"{minimum:g} 到 {maximum:g} 之间的数", f"A number from {minimum:g} to {maximum:g}") \
        if maximum is not None else (f"不小于 {minimum:g} 的数", f"A number, {minimum:g} or more")
    return {"variable": True, "code": code, "datatype": "number", "required": required,
            "datatype_description": hint[0], "datatype_description_en": hint[1],
            "min": minimum, "max": maximum, "order": order, "description": description[0],
            "description_en": description[1], "values": []}


URGENT = (15, 60, 480)  # danger to life: accept in 15 min, on site within the hour
QUICK = (30, 120, 1440)
NORMAL = (60, 240, 2880)
SLOW = (240, 1440, 10080)  # casework: a week to resolve

CATALOGUE: list[Spec] = [
    # -- livelihood services (民生服务) ------------------------------------------
    Spec("road-damage", "道路破损", "Road damage", LIV, "transport", ("urban-management",), 2, QUICK,
         duplicate=(80, 72), attributes=[choice("size", ("破损有多大？", "How large is the damage?"), [
             ("small", "小于井盖", "Smaller than a manhole cover"),
             ("medium", "不超过一个车道", "Up to one lane"),
             ("large", "超过一个车道", "More than one lane")], required=True)]),
    Spec("manhole-cover", "井盖缺失破损", "Missing or broken manhole cover", LIV, "urban-management",
         ("water",), 1, URGENT, 60, (30, 48)),
    Spec("streetlight-out", "路灯不亮", "Street light out", LIV, "urban-management", ("power",), 4,
         NORMAL, duplicate=(100, 72)),
    Spec("power-line-sagging", "电线下垂断落", "Sagging or broken power line", LIV, "power", (), 1,
         URGENT, 60, (100, 24), attributes=[choice("hazard", ("看到了什么？", "What do you see?"), [
             ("low", "电线下垂", "Hanging low"), ("ground", "电线落地", "Touching the ground"),
             ("sparking", "冒火花或燃烧", "Sparking or burning")], required=True)]),
    Spec("power-outage", "停电", "Power outage", LIV, "power", (), 2, QUICK, duplicate=(500, 12)),
    Spec("water-leak", "供水管网漏水", "Water main leak", LIV, "water", (), 2, QUICK, 120, (80, 48),
         attributes=[choice("flow", ("漏水有多大？", "How strong is the flow?"), [
             ("seep", "渗水", "Seeping"), ("flow", "流水", "Running"),
             ("burst", "喷涌", "Gushing")])]),
    Spec("water-outage", "停水", "Water outage", LIV, "water", (), 2, QUICK, duplicate=(500, 12)),
    Spec("drain-blocked", "下水道堵塞", "Blocked drain or sewer", LIV, "urban-management",
         ("water",), 3, NORMAL),
    Spec("garbage", "垃圾堆积", "Garbage piling up", LIV, "urban-management", (), 3, NORMAL,
         attributes=[number("bags", ("大约多少袋？", "Roughly how many bags?"), maximum=1000)]),
    Spec("noise", "噪声扰民", "Noise nuisance", LIV, "ecology", ("public-security",), 3, NORMAL,
         duplicate=(150, 12), attributes=[choice("when", ("什么时候发生？", "When does it happen?"), [
             ("day", "白天", "Daytime"), ("night", "夜间（22:00–06:00）", "At night (22:00–06:00)")])]),
    Spec("cooking-fumes", "油烟废气污染", "Cooking fumes or exhaust", LIV, "ecology", (), 3, NORMAL),
    Spec("river-pollution", "河道水体污染", "River or pond pollution", LIV, "ecology", ("water",), 2,
         QUICK, duplicate=(300, 72)),
    Spec("illegal-construction", "违法建设", "Illegal construction", LIV, "urban-management",
         ("natural-resources",), 2, NORMAL, duplicate=(50, 168)),
    Spec("greenery-damage", "绿化损坏", "Damaged greenery", LIV, "urban-management", (), 4, NORMAL),
    Spec("stray-animals", "流浪动物", "Stray animals", LIV, "urban-management", (), 4, NORMAL),
    Spec("illegal-parking", "违章停车", "Illegal parking", LIV, "public-security",
         ("urban-management",), 3, QUICK),
    Spec("abandoned-vehicle", "僵尸车", "Abandoned vehicle", LIV, "public-security", (), 4, SLOW),
    Spec("elderly-in-need", "困难老人需要帮助", "Elderly person in need", LIV, "civil-affairs",
         ("health",), 2, QUICK, 120, (30, 24)),
    Spec("disability-support", "残疾人帮扶", "Support for a disabled person", LIV, "civil-affairs",
         (), 3, SLOW),
    Spec("subsistence-allowance", "低保救助", "Subsistence allowance", LIV, "civil-affairs", (), 3,
         SLOW),
    Spec("medical-insurance", "医保报销问题", "Medical insurance claim", LIV, "medical-insurance",
         (), 4, SLOW),
    Spec("school-enrolment", "入学问题", "School enrolment", LIV, "education", (), 4, SLOW),
    Spec("property-service", "物业服务问题", "Property management service", LIV, "housing", (), 3,
         NORMAL),
    Spec("elevator-fault", "电梯故障", "Elevator fault", LIV, "market-regulation", ("housing",), 1,
         URGENT, 60, (30, 12), attributes=[choice("trapped", ("是否有人被困？", "Is anyone trapped?"), [
             ("yes", "有人被困", "Yes"), ("no", "无人被困", "No")], required=True)]),
    Spec("public-transport", "公交线路问题", "Public transport", LIV, "transport", (), 4, SLOW),
    Spec("wage-arrears", "拖欠工资", "Wage arrears", LIV, "hrss", (), 2, (60, 1440, 10080)),
    # -- economic development (经济发展) ----------------------------------------
    Spec("unlicensed-business", "无证经营", "Unlicensed business", ECO, "market-regulation", (), 3,
         NORMAL),
    Spec("price-fraud", "价格欺诈", "Price fraud", ECO, "market-regulation", (), 3, NORMAL),
    Spec("food-safety", "食品安全", "Food safety", ECO, "market-regulation", ("health",), 2, QUICK),
    Spec("street-vending", "占道经营", "Street vending on the road", ECO, "urban-management", (), 4,
         NORMAL),
    Spec("outdoor-advertising", "违规户外广告", "Illegal outdoor advertising", ECO,
         "urban-management", (), 4, SLOW),
    Spec("enterprise-request", "企业诉求", "Business request", ECO, "market-regulation", (), 3, SLOW),
    Spec("farmland-occupation", "违法占用耕地", "Illegal use of farmland", ECO, "natural-resources",
         (), 2, NORMAL, duplicate=(200, 168)),
    # -- safety and rule of law (平安法治) --------------------------------------
    Spec("gas-smell", "燃气泄漏气味", "Smell of gas", SAF, "gas", ("fire-rescue",), 1, (10, 30, 240),
         30, (100, 6)),
    Spec("unsafe-building", "危房险情", "Unsafe building", SAF, "housing", ("emergency",), 1, URGENT,
         60, (50, 168)),
    Spec("blocked-fire-lane", "消防通道堵塞", "Blocked fire lane", SAF, "fire-rescue", (), 2, QUICK),
    Spec("fire-hazard", "消防安全隐患", "Fire hazard", SAF, "fire-rescue", (), 2, QUICK),
    Spec("ebike-charging", "电动车违规充电", "E-bike charging indoors", SAF, "fire-rescue", (), 2,
         QUICK),
    Spec("landslide-risk", "地质灾害隐患", "Landslide or rockfall risk", SAF, "natural-resources",
         ("emergency",), 1, URGENT, 60, (200, 72)),
    Spec("waterlogging", "道路积水", "Waterlogged road", SAF, "urban-management", ("emergency",), 2,
         QUICK, 120, (300, 6)),
    Spec("public-order", "治安隐患", "Public order hazard", SAF, "public-security", (), 2, QUICK),
    Spec("telecom-fraud", "电信诈骗线索", "Telecom fraud lead", SAF, "public-security", (), 3, NORMAL),
    Spec("production-safety", "安全生产隐患", "Workplace safety hazard", SAF, "emergency", (), 2,
         QUICK),
    Spec("hazardous-chemicals", "危险化学品隐患", "Hazardous chemicals", SAF, "emergency",
         ("fire-rescue",), 1, URGENT, 60),
    Spec("mental-health-risk", "精神障碍患者风险", "Person with a mental disorder at risk", SAF,
         "health", ("public-security",), 2, QUICK),
    # -- disputes (矛盾纠纷), safety and rule of law ------------------------------
    Spec("dispute-neighbour", "邻里纠纷", "Neighbour dispute", SAF, None, (), 3, SLOW,
         dispute=DisputeType.NEIGHBOUR),
    Spec("dispute-family", "婚姻家庭纠纷", "Family dispute", SAF, "civil-affairs", (), 3, SLOW,
         dispute=DisputeType.FAMILY),
    Spec("dispute-labour", "劳动争议", "Labour dispute", SAF, "hrss", (), 2, SLOW,
         dispute=DisputeType.LABOUR),
    Spec("dispute-property", "物业纠纷", "Property management dispute", SAF, "housing", (), 3, SLOW,
         dispute=DisputeType.PROPERTY_MANAGEMENT),
    Spec("dispute-land", "土地山林纠纷", "Land or forest rights dispute", SAF, "natural-resources",
         (), 3, SLOW, dispute=DisputeType.LAND),
    Spec("dispute-consumer", "消费纠纷", "Consumer dispute", SAF, "market-regulation", (), 4, SLOW,
         dispute=DisputeType.CONSUMER),
    Spec("dispute-traffic", "交通事故纠纷", "Traffic accident dispute", SAF, "public-security", (), 3,
         SLOW, dispute=DisputeType.TRAFFIC),
    Spec("dispute-medical", "医疗纠纷", "Medical dispute", SAF, "health", (), 3, SLOW,
         dispute=DisputeType.MEDICAL),
    # -- party building (党建引领) ----------------------------------------------
    Spec("party-service-centre", "党群服务中心设施问题", "Party and public service centre facilities",
         PTY, "civil-affairs", (), 4, SLOW),
    Spec("volunteer-request", "志愿服务需求", "Request for volunteer help", PTY, "civil-affairs", (),
         4, SLOW),
    Spec("cadre-conduct", "干部作风问题", "Conduct of officials", PTY, None, (), 3, SLOW),
    Spec("grassroots-suggestion", "基层治理建议", "Suggestion for grassroots governance", PTY, None,
         (), 5, SLOW),
]

DISPUTE_TYPE_OF = {s.code: s.dispute for s in CATALOGUE if s.dispute}


def category_seed(*, actor=None) -> int:
    """Create the categories that are missing; return how many were added.

    Existing categories are left alone: administrators may have edited them.
    """
    from zhili.accounts.models import Department
    from zhili.accounts.services import departments_ensure
    from zhili.audit.services import audit_record
    from zhili.governance.models import Category

    existing = set(Category.objects.values_list("code", flat=True))
    missing = [s for s in CATALOGUE if s.code not in existing]
    if not missing:
        return 0
    departments_ensure(actor=actor)
    departments = {d.code: d for d in Department.objects.all()}
    with transaction.atomic():
        for spec in missing:
            accept, arrive, resolve = spec.limits
            category = Category.objects.create(
                code=spec.code, name=spec.name, name_en=spec.name_en, board=spec.board,
                is_dispute=spec.dispute is not None,
                lead_department=departments.get(spec.lead) if spec.lead else None,
                priority=spec.priority, accept_minutes=accept, arrive_minutes=arrive,
                resolve_minutes=resolve, escalate_minutes=spec.escalate,
                duplicate_radius_m=spec.duplicate[0], duplicate_window_hours=spec.duplicate[1],
                attributes=spec.attributes,
            )
            codes = ([spec.lead] if spec.lead else []) + list(spec.cooperating)
            category.departments.set([departments[c] for c in codes])
        audit_record(actor=actor, action="category.seed", object_type="governance.category",
                     detail={"codes": [s.code for s in missing]})
    return len(missing)


def attributes_clean(definitions: list[dict], answers: dict | None) -> dict:
    """Check intake answers against a category's Open311 attributes.

    Unknown codes are dropped (Open311 clients send `attribute[x]` freely);
    a missing required one, a value outside a list or a non-number is a 422
    naming `attributes.<code>`.
    """
    answers = dict(answers or {})
    clean, errors = {}, []
    for definition in definitions or []:
        code = definition.get("code")
        if not code:
            continue
        value = answers.get(code)
        if value in (None, "", []):
            if definition.get("required"):
                errors.append(FieldError(f"attributes.{code}", _("required")))
            continue
        kind = definition.get("datatype", "string")
        keys = {str(v.get("key")) for v in definition.get("values") or []}
        if kind == "singlevaluelist":
            if isinstance(value, list):
                value = value[0] if len(value) == 1 else value
            if not isinstance(value, str | int) or str(value) not in keys:
                errors.append(FieldError(f"attributes.{code}",
                                         _("one of: %(v)s") % {"v": ", ".join(sorted(keys))}))
                continue
            value = str(value)
        elif kind == "multivaluelist":
            values = value if isinstance(value, list) else [value]
            if not values or any(str(v) not in keys for v in values):
                errors.append(FieldError(f"attributes.{code}",
                                         _("values from: %(v)s") % {"v": ", ".join(sorted(keys))}))
                continue
            value = [str(v) for v in values]
        elif kind == "number":
            try:
                value = float(value)
                if not math.isfinite(value):
                    raise ValueError
            except (TypeError, ValueError):
                errors.append(FieldError(f"attributes.{code}", _("must be a number")))
                continue
            # Categories seeded before bounds existed carry none: a count is at least 0.
            low, high = definition.get("min", 0), definition.get("max")
            if isinstance(low, int | float) and value < low:
                errors.append(FieldError(f"attributes.{code}", f"must be at least {low:g}"))
                continue
            if isinstance(high, int | float) and value > high:
                errors.append(FieldError(f"attributes.{code}", f"must be at most {high:g}"))
                continue
        else:
            value = str(value)[:500]
        clean[code] = value
    if errors:
        raise ValidationFailed(errors)
    return clean
