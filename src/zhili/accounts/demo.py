"""Demo users: one per role, two grid workers and two street operators on different
areas so that scoping can be seen. All share DEMO_PASSWORD."""

from django.utils.translation import get_language
from django.utils.translation import gettext as _

from zhili.accounts.models import Department, User
from zhili.accounts.roles import Role
from zhili.accounts.services import departments_ensure, role_assign, user_create, user_update
from zhili.core.seeding import DEMO_PASSWORD
from zhili.geo.models import AreaNode

# username, display name, role, area code (trimmed, i.e. the last path segment), department
DEMO_USERS = [
    ("admin", "城市管理员 Admin", Role.CITY_ADMIN, "50", None),
    ("city_op", "市级调度员 City operator", Role.CITY_OPERATOR, "50", None),
    ("district_op", "渝中区调度员 District operator", Role.DISTRICT_OPERATOR, "500103", None),
    ("street_op1", "街道一中心 Street operator 1", Role.STREET_OPERATOR, "500103001", None),
    ("street_op2", "街道二中心 Street operator 2", Role.STREET_OPERATOR, "500103002", None),
    ("community1", "社区一 Community staff", Role.COMMUNITY_STAFF, "500103001001", None),
    ("leader1", "网格长一 Grid leader", Role.GRID_LEADER, "500103001001001", None),
    ("worker1", "网格员一 Grid worker 1", Role.GRID_WORKER, "500103001001001", None),
    ("worker2", "网格员二 Grid worker 2", Role.GRID_WORKER, "500103002001001", None),
    ("power_officer", "供电专员 Power officer", Role.DEPARTMENT_OFFICER, "500103", "power"),
    ("responsible1", "责任人一 Responsible person", Role.RESPONSIBLE_PERSON, "500103001001002", None),
    ("commander", "应急指挥 Emergency commander", Role.EMERGENCY_COMMANDER, "500103", None),
    ("resident1", "居民一 Resident", Role.RESIDENT, "500103001001001", None),
]


def node_by_segment(segment: str) -> AreaNode:
    return AreaNode.objects.get(code=segment.ljust(12, "0"))


# Who may open /admin/ (Django asks for is_staff besides the role's permissions).
DEMO_STAFF = {"admin"}


def login_row(user: User, role_label: str, area: AreaNode, department: Department | None):
    """(username, where, role) as `zhili demo` prints it, in the active language."""
    english = (get_language() or "").startswith("en")
    where = (area.name_en or area.name) if english else area.name
    if department is not None:
        where += " · " + ((department.name_en or department.name) if english else department.name)
    return user.username, where, str(role_label)


def logins() -> list[tuple[str, str, str]]:
    rows = []
    departments = {d.code: d for d in Department.objects.all()}
    users = {u.username: u for u in User.objects.filter(username__in=[u[0] for u in DEMO_USERS])}
    for username, _display, role, area, dept in DEMO_USERS:
        if username in users:
            rows.append(login_row(users[username], role.label, node_by_segment(area),
                                  departments.get(dept)))
    return rows


def seed(*, seed: int, log) -> None:
    departments_ensure()
    created = 0
    for username, display, role, area_segment, dept in DEMO_USERS:
        user = User.objects.filter(username=username).first()
        if user is None:
            user = user_create(username=username, password=DEMO_PASSWORD, display_name=display)
            created += 1
        if username in DEMO_STAFF and not user.is_staff:
            user.is_staff = True
            user_update(actor=None, user=user, fields=["is_staff"])
        department = Department.objects.get(code=dept) if dept else None
        role_assign(user=user, role=role, area=node_by_segment(area_segment), department=department)
    log("  " + _("demo users created: %(count)d") % {"count": created})
