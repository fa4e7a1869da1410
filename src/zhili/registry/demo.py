"""Synthetic registry data for the demo and the tests: obviously fictitious, valid checks.

Names start with 示例· ("example"), phones start with 1009 (no Chinese mobile
network issues numbers starting 100), identity numbers are region 500103 with
valid GB 11643 check digits, credit codes are valid GB 32100 codes with a
`MA` body. The same seed gives the same data.

Rows are bulk-inserted in one transaction with one audit row: seeding
hundreds of rows through the per-row services would write hundreds of
chained audit rows and take seconds in every test session. Every value is
still checked with the same validators the services use.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from zhili.accounts.models import Department
from zhili.accounts.services import departments_ensure
from zhili.audit.services import audit_record
from zhili.geo.models import AreaNode, Level
from zhili.registry.identifiers import (
    CREDIT_CHARSET,
    credit_code_make,
    credit_code_validate,
    id_number_make,
    id_number_validate,
)
from zhili.registry.models import CERTIFICATE_TYPES, Certificate, Consent, Organisation, Person

REGION = "500103"
PERSONS = 300
ORGANISATIONS = 36
# The demo users' grids (worker1, worker2) get households first, so scoping shows.
FIRST_GRIDS = ("500103001001001", "500103002001001")

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾田董袁潘蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰涛明超秀兰霞平刚英华玉萍红玲芬燕彬鹏浩宇轩涵欣怡"
ROADS = ("民族路", "民生路", "中山一路", "中山二路", "解放东路", "新华路", "人民路", "邹容路",
         "八一路", "青年路", "和平路", "长滨路")
TRADES = (("山城火锅", "餐饮服务"), ("两江物流", "道路货物运输"), ("解放碑商贸", "日用百货销售"),
          ("嘉陵软件", "软件开发"), ("朝天门服饰", "服装零售"), ("洪崖洞文旅", "旅游服务"),
          ("渝州建材", "建筑材料销售"), ("长江印务", "包装装潢印刷"), ("鹅岭咖啡", "餐饮服务"),
          ("大坪诊所", "医疗服务"), ("七星岗书店", "图书零售"), ("化龙桥科技", "技术服务"))
LEGAL_FORMS = (("91", "有限公司", "有限责任公司"), ("92", "商行", "个体工商户"),
               ("93", "专业合作社", "农民专业合作社"))


def _name(rng: random.Random) -> str:
    return "示例·" + rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.randint(1, 2)))


def _birth(rng: random.Random, start: int, end: int) -> date:
    first, last = date(start, 1, 1), date(end, 12, 31)
    return first + timedelta(days=rng.randrange((last - first).days + 1))


def _address(rng: random.Random, street_name: str) -> str:
    return (f"重庆市渝中区{street_name}{rng.choice(ROADS)}{rng.randint(1, 300)}号"
            f"{rng.randint(1, 12)}栋{rng.randint(1, 4)}单元{rng.randint(1, 30)}{rng.randint(1, 4):02d}")


def _unique(rng: random.Random, used: set, make):
    while True:
        value = make(rng)
        if value not in used:
            used.add(value)
            return value


def seed(*, seed: int, log) -> None:
    if Person.objects.exists():
        log("  " + gettext("registry already seeded"))
        return
    grids = list(AreaNode.objects.filter(level=Level.GRID).order_by("code")
                 .values_list("id", "code", "path"))
    if not grids:
        log("  " + gettext("no grids: registry not seeded"))
        return
    departments_ensure()
    streets = dict(AreaNode.objects.filter(level=Level.STREET).values_list("code", "name"))
    departments = {d.code: d for d in Department.objects.all()}
    rng = random.Random(seed)
    today = timezone.localdate()
    persons, heads, organisations = plan(rng, grids, streets, today)

    with transaction.atomic():
        Person.objects.bulk_create(persons, batch_size=500)
        Organisation.objects.bulk_create(organisations, batch_size=500)
        people = {p.id_number: p for p in Person.objects.all()}
        orgs = list(Organisation.objects.order_by("id"))
        certificates = _certificates(rng, today, people, heads, orgs, departments)
        Certificate.objects.bulk_create(certificates, batch_size=500)
        consents = _consents(rng, people, certificates)
        Consent.objects.bulk_create(consents, batch_size=500)
        audit_record(actor=None, action="registry.demo_seed", object_type="registry",
                     detail={"seed": seed, "persons": len(persons),
                             "organisations": len(organisations),
                             "certificates": len(certificates), "consents": len(consents)})
    log("  " + gettext("persons: %(persons)d, organisations: %(organisations)d, certificates: "
                 "%(certificates)d, consents: %(consents)d (synthetic)")
        % {"persons": len(persons), "organisations": len(organisations),
           "certificates": len(certificates), "consents": len(consents)})


def plan(rng: random.Random, grids, streets: dict, today: date):
    """Unsaved persons (in households), the household heads' numbers, and organisations.

    `grids` are (id, code, path) rows in code order; `streets` maps street codes to names.
    """
    by_code = {code: (pk, code, path) for pk, code, path in grids}
    first = [by_code[c] for c in FIRST_GRIDS if c in by_code]

    persons, heads, used_ids = [], [], set()
    household = 0
    while len(persons) < PERSONS:
        grid_id, code, path = first[household % len(first)] if household < 8 and first \
            else rng.choice(grids)
        household += 1
        household_no = f"{code}-{household:03d}"
        address = _address(rng, streets.get(code[:9].ljust(12, "0"), "渝中区"))
        for member in range(rng.randint(1, 4)):
            born = (_birth(rng, 1945, 1995) if member == 0
                    else _birth(rng, 1940, min(today.year - 1, 2024)))
            number = _unique(rng, used_ids,
                             lambda r, b=born: id_number_make(REGION, b, r.randrange(1000)))
            phone = "" if today.year - born.year < 12 else f"1009{rng.randrange(10**7):07d}"
            persons.append(Person(
                id_number=id_number_validate(number, today=today), name=_name(rng), phone=phone,
                address=address, household_no=household_no, grid_id=grid_id, area_path=path,
            ))
            if member == 0:
                heads.append(number)

    organisations, used_codes = [], set()
    for index in range(ORGANISATIONS):
        grid_id, code, path = first[index % len(first)] if index < 4 and first else rng.choice(grids)
        prefix, suffix, _form = rng.choice(LEGAL_FORMS)
        trade, _scope = rng.choice(TRADES)
        credit = _unique(rng, used_codes, lambda r, p=prefix: credit_code_make(
            p, REGION, "MA" + "".join(r.choice(CREDIT_CHARSET) for _ in range(6))))
        organisations.append(Organisation(
            credit_code=credit_code_validate(credit), name=f"示例·重庆{trade}{index + 1}号{suffix}",
            legal_representative=_name(rng),
            address=_address(rng, streets.get(code[:9].ljust(12, "0"), "渝中区")),
            area_id=grid_id, area_path=path,
        ))
    return persons, heads, organisations


def _number(rng: random.Random, used: set, cert_type: str, issued: date) -> str:
    prefix = CERTIFICATE_TYPES[cert_type].prefix
    return _unique(rng, used, lambda r: f"{prefix}{issued:%Y}{r.randrange(10**12):012d}")


def _certificates(rng, today, people, heads, orgs, departments) -> list[Certificate]:
    used: set[str] = set()
    out = []

    def issue(cert_type, issued, content, person=None, organisation=None, expires=None):
        holder = person or organisation
        out.append(Certificate(
            cert_type=cert_type, number=_number(rng, used, cert_type, issued),
            person=person, organisation=organisation,
            department=departments[CERTIFICATE_TYPES[cert_type].department],
            issued_on=issued, expires_on=expires, content=content, area_path=holder.area_path,
        ))

    for number in heads:
        head = people[number]
        issued = today - timedelta(days=rng.randrange(30, 3650))
        members = sum(1 for p in people.values() if p.household_no == head.household_no)
        issue("household-register", issued, {"household_no": head.household_no,
                                             "household_type": "家庭户", "members": members},
              person=head)
    for person in people.values():
        born = date(int(person.id_number[6:10]), int(person.id_number[10:12]),
                    int(person.id_number[12:14]))
        if born.year >= 2015:
            issue("birth-medical-certificate", born,
                  {"birth_date": born.isoformat(), "hospital": "示例·渝中区妇幼保健院",
                   "weight_g": rng.randint(2600, 4200)}, person=person)
    for org in orgs:
        issued = today - timedelta(days=rng.randrange(30, 5000))
        trade_scope = next((s for t, s in TRADES if t in org.name), "商务服务")
        issue("business-licence", issued, {"name": org.name, "business_scope": trade_scope,
                                           "registered_capital_cny": rng.choice(
                                               [100_000, 500_000, 1_000_000, 5_000_000])},
              organisation=org)
    return out


def _consents(rng, people, certificates) -> list[Consent]:
    now = timezone.now()
    out = []
    births = [c for c in certificates if c.cert_type == "birth-medical-certificate"]
    for cert in births[:12]:
        out.append(Consent(
            person=cert.person, purpose="newborn-bundle",
            purpose_text="出生一件事：办理户口登记与医保参保时调用出生医学证明",
            data_item="certificate:birth-medical-certificate",
            granted_at=now - timedelta(days=rng.randrange(1, 300)),
            expires_at=now + timedelta(days=rng.randrange(30, 365)),
            area_path=cert.area_path,
        ))
    adults = [p for p in people.values() if p.phone]
    for person in rng.sample(adults, min(15, len(adults))):
        out.append(Consent(
            person=person, purpose="grid-service", purpose_text="网格员上门服务时联系本人",
            data_item="person.phone", granted_at=now - timedelta(days=rng.randrange(1, 300)),
            area_path=person.area_path,
        ))
    return out
