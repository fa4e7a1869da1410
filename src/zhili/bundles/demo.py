"""Demo: the catalogue, an officer per department, applicants, and applications at every stage.

Everything goes through the real services. Idempotent: what exists is kept.
Kept fast (it runs in every test session): one password hash for all officers,
one small PDF reused as every upload's content.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.contrib.auth.hashers import make_password
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from zhili.accounts.models import Department, RoleAssignment, User
from zhili.accounts.roles import Role
from zhili.accounts.services import role_assign, user_create
from zhili.bundles import graph
from zhili.bundles.catalogue import DEFAULT_PATH, catalogue_import, catalogue_load_file
from zhili.bundles.models import (
    ApplicantBinding,
    Application,
    Bundle,
    ElementKind,
    Matter,
    Task,
    TaskStatus,
)
from zhili.core.seeding import DEMO_PASSWORD
from zhili.geo.models import AreaNode
from zhili.registry.identifiers import credit_code_make, id_number_make
from zhili.registry.models import Certificate, Organisation, Person

CATALOGUE_LABELS = {"elements": gettext_lazy("data elements"), "materials": gettext_lazy("materials"),
                    "matters": gettext_lazy("matters"), "bundles": gettext_lazy("bundles")}
OFFICER_AREA = "500103"  # the demo district; officers there cover its streets and grids
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
# username, display name, grid (trimmed code), born, sequence, organisation body or None
APPLICANTS = [
    ("resident1", "居民一 Resident", "500103001001001", date(1992, 3, 8), 21, None),
    ("applicant2", "申请人二 Applicant 2", "500103001001002", date(1988, 7, 1), 33, "MA5U0001"),
    ("applicant3", "申请人三 Applicant 3", "500103002001001", date(1965, 1, 20), 45, None),
    ("applicant4", "申请人四 Applicant 4", "500103003001001", date(1979, 11, 2), 57, "MA5U0002"),
]
NAMES = {"resident1": "李明", "applicant2": "王芳", "applicant3": "张伟", "applicant4": "刘洋"}
RESIDENT1_BUNDLES = ("school-enrolment", "utilities-connection", "disability-services")
# Per demo application, the stage it is brought to (cycled over applicants × bundles).
STAGES = ("submitted", "first-approved", "completed", "one-rejected", "supplement", "supplement-answered",
          "overdue")


def _node(segment: str) -> AreaNode:
    return AreaNode.objects.get(code=segment.ljust(12, "0"))


def _password_hash() -> str:
    """Every demo user shares DEMO_PASSWORD: reuse a stored hash rather than hash again (~0.4 s)."""
    if "hash" not in _HASH:
        # accounts' demo gave `admin` DEMO_PASSWORD (verifying it would cost a hash too).
        admin = User.objects.filter(username="admin").first()
        _HASH["hash"] = admin.password if admin and admin.has_usable_password() \
            else make_password(DEMO_PASSWORD)
    return _HASH["hash"]


_HASH: dict[str, str] = {}


def _officers(log) -> dict[str, User]:
    area = _node(OFFICER_AREA)
    officers = {}
    existing = {u.username: u for u in User.objects.filter(username__startswith="officer-")}
    for dept in Department.objects.all():
        username = f"officer-{dept.code}"[:150]
        user = existing.get(username)
        if user is None:
            user = user_create(username=username, password=None,
                               display_name=f"{dept.name}专员 {dept.name_en} officer")
            user.password = _password_hash()
            user.save(update_fields=["password"])
            role_assign(user=user, role=Role.DEPARTMENT_OFFICER, area=area, department=dept)
        officers[dept.code] = user
    return officers


def logins() -> list[tuple[str, str, str]]:
    """The department officers and the applicants, as `zhili demo` prints them."""
    from zhili.accounts.demo import login_row

    rows = []
    officers = (RoleAssignment.objects.filter(user__username__startswith="officer-",
                                              role=Role.DEPARTMENT_OFFICER)
                .select_related("user", "area", "department").defer("area__geometry")
                .order_by("user__username"))
    for a in officers:
        rows.append(login_row(a.user, a.get_role_display(), a.area, a.department))
    applicants = (RoleAssignment.objects.filter(user__username__in=[a[0] for a in APPLICANTS[1:]])
                  .select_related("user", "area").defer("area__geometry").order_by("user__username"))
    for a in applicants:
        rows.append(login_row(a.user, a.get_role_display(), a.area, None))
    return rows


def _applicants() -> dict[str, ApplicantBinding]:
    from zhili.registry.services import certificate_issue, organisation_create, person_create

    bindings = {b.user.username: b for b in ApplicantBinding.objects.select_related("user", "person",
                                                                                     "organisation")}
    for username, display, grid, born, seq, org in APPLICANTS:
        if username in bindings:
            continue
        user = User.objects.filter(username=username).first()
        if user is None:
            user = user_create(username=username, password=None, display_name=display)
            user.password = _password_hash()
            user.save(update_fields=["password"])
            role_assign(user=user, role=Role.RESIDENT, area=_node(grid))
        number = id_number_make("500103", born, seq)
        person = Person.objects.filter(id_number=number).first() or person_create(
            actor=None, id_number=number, name=NAMES[username], grid=_node(grid), phone="13800138000",
            address="重庆市渝中区解放碑街道民族路188号", household_no=f"HH-{seq:04d}")
        organisation = None
        if org:
            code = credit_code_make("92", "500103", org)
            organisation = Organisation.objects.filter(credit_code=code).first() or organisation_create(
                actor=None, credit_code=code, name=f"{NAMES[username]}小面馆", area=_node(grid),
                legal_representative=NAMES[username], address="重庆市渝中区解放碑街道八一路12号")
        held = set(Certificate.objects.filter(person=person).values_list("cert_type", flat=True))
        for cert_type in ("marriage-certificate", "household-register"):
            if cert_type not in held:
                certificate_issue(actor=None, cert_type=cert_type, holder=person)
        bindings[username] = ApplicantBinding.objects.create(user=user, person=person,
                                                             organisation=organisation)
        if username != "resident1":  # resident1 consents inside the form, as the demo shows
            from zhili.bundles.services import consent_give
            from zhili.registry.models import DATA_ITEMS

            consent_give(actor=user, data_items=list(DATA_ITEMS))
    return bindings


def sample_value(field: dict, binding: ApplicantBinding):
    kind = field["kind"]
    if kind == ElementKind.ID_NUMBER:
        return binding.person.id_number
    if kind == ElementKind.CREDIT_CODE:
        return binding.organisation.credit_code if binding.organisation else credit_code_make(
            "92", "500103", "MA5U0009")
    if kind == ElementKind.DATE:
        return (timezone.localdate() - timedelta(days=10)).isoformat()
    if kind == ElementKind.PHONE:
        return "13800138000"
    if kind == ElementKind.NUMBER:
        return "12"
    if kind == ElementKind.CHOICE:
        return field["choices"][0]
    if kind == ElementKind.BOOL:
        return True
    if field["code"] == "bank-account":
        return "6222020200001234567"
    if field["code"] == "household-no":
        return binding.person.household_no or "HH-0001"
    return "示例" if field["max_length"] >= 2 else "x"


def demo_apply(*, user, binding, bundle: str, key: str, answers: dict | None = None):
    """Fill the one form as an applicant would: consent to reuse, type the rest, upload, submit."""
    from zhili.bundles import selectors, services

    form = selectors.form_build(actor=user, bundle=bundle, answers=answers)
    data = {f["code"]: f["value"] or sample_value(f, binding) for f in form["fields"]}
    uploads = {}
    for m in form["materials"]:
        if m["state"] in ("upload", "held"):
            uploads[m["code"]] = services.upload_store(actor=user, material=m["code"],
                                                       filename=f"{m['code']}.pdf", content=PDF).pk
    return services.application_submit(actor=user, bundle=bundle, answers=answers, data=data,
                                       uploads=uploads, idempotency_key=key)


def approve_ready(application, officers, *, rounds: int = 1, reject_first: bool = False):
    from zhili.bundles.services import task_decide

    for _round in range(rounds):
        ready = list(Task.objects.filter(application=application, status=TaskStatus.READY)
                     .select_related("matter", "department", "application"))
        if not ready:
            return
        for task in ready:
            if reject_first:
                task_decide(actor=officers[task.department.code], task=task, decision="reject",
                            reason="材料与登记信息不一致 (documents do not match the register)")
                reject_first = False
            else:
                task_decide(actor=officers[task.department.code], task=task, decision="approve")


def _stage(application, stage, officers, user):
    from zhili.bundles.services import overdue_flag, supplement_answer, task_decide

    if stage == "first-approved":
        approve_ready(application, officers)
    elif stage == "completed":
        approve_ready(application, officers, rounds=10)
    elif stage == "one-rejected":
        approve_ready(application, officers, rounds=10, reject_first=True)
    elif stage in ("supplement", "supplement-answered"):
        task = Task.objects.filter(application=application, status=TaskStatus.READY).select_related(
            "matter", "department", "application").first()
        element = task.matter.elements.first()
        items = [{"kind": "element", "code": element.code, "note": "请核对"}] if element else \
            [{"kind": "note", "code": "", "note": "请补充说明情况"}]
        task_decide(actor=officers[task.department.code], task=task, decision="supplement", items=items)
        if stage == "supplement-answered":
            task.refresh_from_db()
            from zhili.bundles.forms import element_schema

            data = {element.code: sample_value(element_schema(element), application_binding(user))} \
                if element else {}
            supplement_answer(actor=user, task=task, data=data)
    elif stage == "overdue":
        # Back-date one open task's due time (demo only) so the lead department sees a flag.
        Task.objects.filter(application=application, status=TaskStatus.READY).update(
            due_at=timezone.now() - timedelta(days=2))
        overdue_flag()


def application_binding(user):
    return ApplicantBinding.objects.select_related("person", "organisation").get(user=user)


def seed(*, seed: int, log) -> None:
    doc = catalogue_load_file(DEFAULT_PATH)
    if (Bundle.objects.count() < len(doc["bundles"])
            or Matter.objects.count() < len(doc["matters"])
            # A catalogue imported before its English content: import it again (an upsert).
            or not Matter.objects.exclude(legal_basis_en="").exists()):
        report = catalogue_import(actor=None, doc=doc, commit=True)
        if not report.ok:
            raise RuntimeError("catalogue: " + "; ".join(report.errors))
        log("  " + _("catalogue: %(counts)s") % {"counts": ", ".join(
            f"{CATALOGUE_LABELS.get(k, k)}: {v}" for k, v in report.counts.items())})
    officers = _officers(log)
    bindings = _applicants()
    if Application.objects.filter(idempotency_key__startswith="demo-").exists():
        log("  " + _("demo applications already seeded"))
        return
    bundles = list(Bundle.objects.order_by("code").values_list("code", "audience"))
    n = 0
    for i, (username, *_rest) in enumerate(APPLICANTS):
        binding = bindings[username]
        user = binding.user
        for j, (code, audience) in enumerate(bundles):
            if audience == "organisation" and binding.organisation is None:
                continue
            if username == "resident1" and code not in RESIDENT1_BUNDLES:
                continue  # newborn is left for the resident to do in the demo (and the browser test)
            if username == "applicant4" and audience != "organisation" and code not in ("retirement",
                                                                                      "veterans"):
                continue  # kept small: the demo runs in every test session
            application = demo_apply(user=user, binding=binding, bundle=code, key=f"demo-{username}-{code}")
            _stage(application, STAGES[(i + j) % len(STAGES)], officers, user)
            n += 1
    log("  " + _("demo applications: %(applications)d; department officers: %(officers)d "
                 "(their logins are below)") % {"applications": n, "officers": len(officers)})


def check_graphs() -> None:
    """Used by tests: the seeded catalogue has no cycle."""
    deps = {m.code: {d.code for d in m.depends_on.all()} for m in Matter.objects.prefetch_related("depends_on")}
    assert graph.find_cycle(deps) is None
