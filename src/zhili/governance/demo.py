"""Demo grid governance: categories, duty rosters, a few hundred cases and dozens
of disputes in every state, made by the real services on a controlled clock.

Every case is reported, accepted, dispatched, resolved … by calling the same
services the API calls, each with `now=` set to a moment in the last 30 days,
so timelines, due times, on-time figures and escalations are consistent. The
escalation and auto-close sweeps then run at a few moments up to the present,
as the worker would have.

How many: `ZHILI_DEMO_CASES` (default 240, about 15 s on SQLite; under pytest
40, because the demo is
seeded in every test session). Disputes are a tenth of that (at least 6).
Idempotent: nothing is added once demo cases exist.
"""

from __future__ import annotations

import os
import random
import sys
from datetime import time, timedelta
from time import monotonic

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from zhili.accounts.models import RoleAssignment, User
from zhili.accounts.roles import Role
from zhili.accounts.services import role_assign, user_create
from zhili.geo.models import AreaNode, Level
from zhili.governance import services
from zhili.governance.catalogue import CATALOGUE
from zhili.governance.models import (
    OPEN_STATUSES,
    Case,
    Category,
    DutyShift,
    Outcome,
    ResolutionLevel,
)
from zhili.registry.models import Person

STREETS = ("500103001", "500103002")  # where the demo street operators work
STAFFED_GRIDS = 12  # per street: each gets a demo grid worker on a roster
DAYS = 30
DEMO_MARK = "[demo]"


def _count() -> int:
    raw = os.environ.get("ZHILI_DEMO_CASES")
    if raw and raw.isdigit():
        return int(raw)
    return 40 if "pytest" in sys.modules else 240


def _user(username: str) -> User | None:
    return User.objects.filter(username=username).first()


DEMO_SHIFTS = ((time(7, 0), time(22, 0)), (time(22, 0), time(7, 0)))


def staff_grids(rng: random.Random, per_street: int) -> list[AreaNode]:
    """The demo users' grids, then the first grids of each demo street, each with its
    worker on the roster around the clock: a day shift and a night on-call shift.

    A day shift alone sent every case reported after 22:00 Chongqing time (the
    afternoon in Europe, when people try the demo) to the grid leader, the fallback."""
    grids = []
    for street in STREETS:
        grids += list(AreaNode.objects.filter(level=Level.GRID, code__startswith=street)
                      .order_by("code")[:per_street])
    for grid in grids:
        worker = (RoleAssignment.objects.filter(area=grid, role=Role.GRID_WORKER)
                  .select_related("user").first())
        user = worker.user if worker else None
        if user is None:
            name = f"gw-{grid.code}"
            user = _user(name) or user_create(username=name, password=None,
                                              display_name=f"网格员 {grid.name}")
            role_assign(user=user, role=Role.GRID_WORKER, area=grid)
        for start, end in DEMO_SHIFTS:  # duty_shift_set is idempotent per window
            services.duty_shift_set(actor=None, grid=grid, user=user, weekdays="0,1,2,3,4,5,6",
                                    start=start, end=end)
    return grids


def seed(*, seed: int, log) -> None:
    added = services.category_seed()
    log("  " + gettext("case categories: %(added)d added, %(total)d in all")
        % {"added": added, "total": Category.objects.count()})
    if Case.objects.filter(description__startswith=DEMO_MARK).exists():
        # A demo seeded before the night shift existed gets it now (idempotent per window).
        staff_grids(random.Random(seed), STAFFED_GRIDS if _count() >= 100 else 3)
        log("  " + gettext("demo cases already seeded"))
        return
    if not AreaNode.objects.filter(code="500103001001001").exists() or _user("worker1") is None:
        log("  " + gettext("no demo city or users: no demo cases"))
        return
    rng = random.Random(seed)
    count = _count()
    grids = staff_grids(rng, STAFFED_GRIDS if count >= 100 else 3)
    others = list(AreaNode.objects.filter(level=Level.GRID).exclude(pk__in=[g.pk for g in grids])
                  .order_by("code"))
    # One outer transaction: each service's own transaction becomes a savepoint,
    # which makes seeding several times faster on SQLite and all-or-nothing.
    with transaction.atomic():
        Demo(rng=rng, grids=grids, others=others, log=log).run(count)


class Demo:
    def __init__(self, *, rng, grids, others, log):
        self.rng, self.grids, self.others, self.log = rng, grids, others, log
        self.end = timezone.now().replace(second=0, microsecond=0)
        self.start = self.end - timedelta(days=DAYS)
        self.codes = [s.code for s in CATALOGUE if not s.dispute]
        self.dispute_codes = [s.code for s in CATALOGUE if s.dispute]
        self.users = {u.username: u for u in User.objects.filter(username__in=[
            "resident1", "street_op1", "street_op2", "community1", "district_op", "worker1",
            "worker2", "leader1"])}
        self.stats: dict[str, int] = {}
        self.shapes: dict[int, object] = {}

    def at(self, minutes: float):
        return self.t0 + timedelta(minutes=minutes)

    def pick_point(self, grid):
        """A point inside the grid near its centre (a representative point, always inside)."""
        import shapely

        shape = self.shapes.get(grid.pk)
        if shape is None:
            shape = self.shapes[grid.pk] = grid.shape
        for _ in range(5):
            lon = grid.centre_lon + self.rng.uniform(-0.2, 0.2) * (grid.max_lon - grid.min_lon)
            lat = grid.centre_lat + self.rng.uniform(-0.2, 0.2) * (grid.max_lat - grid.min_lat)
            if shapely.contains_xy(shape, lon, lat):
                return lon, lat
        return grid.centre_lon, grid.centre_lat

    def run(self, count: int) -> None:
        from zhili.core.errors import ApplicationError

        moments = sorted(self.start + timedelta(minutes=self.rng.uniform(0, DAYS * 24 * 60 - 90))
                         for _ in range(count))
        started = monotonic()
        for i, moment in enumerate(moments):
            self.t0 = moment
            try:
                self.one_case(i)
            except ApplicationError as exc:  # a demo must not stop on one odd draw
                self.stats["skipped"] = self.stats.get("skipped", 0) + 1
                self.log(f"  skipped one demo case: {exc}")
        for hours in (24, 4, 0):
            self.stats["escalated"] = self.stats.get("escalated", 0) + \
                services.cases_escalate_overdue(now=self.end - timedelta(hours=hours))
        self.stats["autoclosed"] = services.cases_autoclose(now=self.end)
        self.disputes(max(6, count // 10))
        # The breakdown names the demo's own stages (code words, kept as they are).
        self.log("  " + gettext("demo cases: %(stages)s (%(seconds).1f s)")
                 % {"stages": ", ".join(f"{k} {v}" for k, v in sorted(self.stats.items())),
                    "seconds": monotonic() - started})

    # -- one case through as much of its life as its draw allows ----------------

    def one_case(self, i: int):
        rng = self.rng
        u = self.users
        staffed = rng.random() < 0.85
        grid = rng.choice(self.grids if staffed else self.others)
        code = rng.choice(self.codes)
        spec = next(s for s in CATALOGUE if s.code == code)
        attributes = {a["code"]: a["values"][0]["key"] if a["values"] else 1
                      for a in spec.attributes}
        lon, lat = self.pick_point(grid)
        previous = Case.objects.filter(status__in=OPEN_STATUSES, duplicate_of__isnull=True,
                                       created_at__gte=self.t0 - timedelta(hours=6),
                                       is_dispute=False).order_by("-created_at").first()
        if previous is not None and rng.random() < 0.5:
            # A neighbour reports the same thing: a probable duplicate.
            code, lon, lat, attributes = previous.category.code, previous.lon, previous.lat, \
                previous.attributes
            grid = previous.grid
        reporter = rng.choices(["resident1", "worker", None], weights=[3, 4, 3])[0]
        worker = self.worker_of(grid)
        channel = "resident"
        actor = u["resident1"]
        if reporter == "worker" and worker is not None:
            actor, channel = worker, "patrol"
        elif reporter is None:
            actor, channel = None, "api"
        case, _ = services.case_report(
            actor=actor, category=code, channel=channel, attributes=attributes, lon=lon, lat=lat,
            description=f"{DEMO_MARK} {spec.name}: {rng.choice(SITUATIONS)}",
            address=f"{grid.name}附近", anonymous=channel == "resident" and rng.random() < 0.2,
            now=self.t0)
        self.bump("reported")
        if case.duplicate_of_id:
            self.bump("duplicates")
            if rng.random() < 0.5:
                services.case_duplicate_confirm(actor=self.operator(case), case=case,
                                                now=self.at(30))
            return
        self.advance(case, self.worker_of(case.grid))

    def advance(self, case, worker):
        """Draw how far this case got, then walk it there on the clock."""
        rng, elapsed = self.rng, (self.end - self.t0).total_seconds() / 60
        stage = rng.choices(["reported", "accepted", "on_site", "dispatched", "resolved",
                             "verified", "closed", "rated", "reopened", "rejected", "not_fixed",
                             "escalated"],
                            weights=[4, 4, 4, 5, 6, 5, 6, 10, 2, 2, 2, 4])[0]
        c = case.category
        late = rng.random() < 0.2  # some steps run over their limit
        step = lambda limit: limit * (rng.uniform(1.1, 2.5) if late else rng.uniform(0.1, 0.9))  # noqa: E731
        t_accept = step(c.accept_minutes)
        t_arrive = t_accept + step(c.arrive_minutes)
        t_resolve = t_arrive + step(c.resolve_minutes)
        if elapsed > 4 * 24 * 60 and stage in ("reported", "accepted", "on_site", "dispatched") \
                and rng.random() < 0.7:
            stage = rng.choice(["rated", "closed", "resolved"])  # old cases are mostly done
        if t_resolve + 60 > elapsed and stage not in ("reported", "accepted", "on_site",
                                                      "rejected", "escalated", "dispatched"):
            stage = "on_site"  # too recent to be finished
        if t_arrive + 30 > elapsed and stage in ("on_site", "dispatched"):
            stage = "accepted"
        if t_accept > elapsed:
            stage = "reported"
        actor = worker or self.operator(case)
        if stage == "reported":
            return self.bump("left reported")
        if stage == "rejected":
            services.case_reject(actor=actor, case=case, version=case.version,
                                 reason="经核实为私人物业内部事务，不属于网格事件",
                                 now=self.at(t_accept))
            return self.bump("rejected")
        if stage == "escalated":
            services.case_escalate(actor=actor, case=case, version=case.version,
                                   reason="超出网格处置能力，需街道协调", now=self.at(t_accept))
            return self.bump("escalated by hand")
        case = services.case_accept(actor=actor, case=case, version=case.version,
                                    now=self.at(t_accept))
        if stage == "accepted":
            return self.bump("left accepted")
        case = services.case_arrive(actor=actor, case=case, version=case.version, lon=case.lon,
                                    lat=case.lat, note="已到现场", now=self.at(t_arrive))
        if stage == "not_fixed":
            services.case_close(actor=self.operator(case), case=case, version=case.version,
                                outcome=Outcome.NOT_FIXED, note="产权单位拒绝整改，已移交执法",
                                now=self.at(t_arrive + 60))
            return self.bump("closed not fixed")
        if stage == "on_site":
            return self.bump("left on site")
        if stage == "dispatched" and c.lead_department_id:
            lead = c.lead_department.code
            case = services.case_dispatch_departments(
                actor=self.operator(case), case=case, version=case.version, lead=lead,
                instructions="请尽快派员处置", now=self.at(t_arrive + 20))
            task = case.department_tasks.get(role="lead")
            officer = self.officer(lead)
            if officer is not None and t_resolve + 60 < elapsed and self.rng.random() < 0.7:
                services.department_task_accept(actor=officer, task=task,
                                                now=self.at(t_arrive + 40))
                services.department_task_complete(actor=officer, task=task, note="已处置完毕",
                                                  now=self.at(t_resolve))
                return self.bump("resolved by a department")
            return self.bump("left dispatched")
        case = services.case_resolve(actor=actor, case=case, version=case.version,
                                     note="已处置完毕，现场恢复正常", now=self.at(t_resolve))
        if stage in ("resolved", "dispatched"):
            return self.bump("left resolved")
        if stage in ("verified", "closed"):
            case = services.case_verify(actor=self.operator(case), case=case,
                                        version=case.version, note="电话回访确认",
                                        now=self.at(t_resolve + 120))
            if stage == "closed":
                services.case_close(actor=self.operator(case), case=case, version=case.version,
                                    outcome=Outcome.FIXED, now=self.at(t_resolve + 180))
            return self.bump(f"left {stage}")
        if case.reporter_id != self.users["resident1"].pk:
            return self.bump("left resolved")
        if stage == "reopened":
            services.case_reopen(actor=self.users["resident1"], case=case, version=case.version,
                                 reason="问题又出现了", now=self.at(t_resolve + 600))
            return self.bump("reopened")
        services.case_rate(actor=self.users["resident1"], case=case,
                           rating=self.rng.choices([5, 4, 3, 2, 1], weights=[60, 25, 8, 4, 3])[0],
                           comment="处理及时", now=self.at(t_resolve + 300))
        return self.bump("rated")

    def bump(self, key: str):
        self.stats[key] = self.stats.get(key, 0) + 1

    def worker_of(self, grid):
        shift = DutyShift.objects.filter(grid=grid).select_related("user").first()
        return shift.user if shift else None

    def operator(self, case):
        street = case.area_path.split("/")[2]
        return self.users["street_op1"] if street == STREETS[0] else \
            self.users["street_op2"] if street == STREETS[1] else self.users["district_op"]

    def officer(self, department: str):
        assignment = (RoleAssignment.objects.filter(role=Role.DEPARTMENT_OFFICER,
                                                    department__code=department)
                      .select_related("user").order_by("id").first())
        return assignment.user if assignment else None

    # -- disputes ---------------------------------------------------------------------

    def disputes(self, count: int) -> None:
        rng = self.rng
        recorders = [self.users[n] for n in ("worker1", "community1", "street_op1")]
        levels = [ResolutionLevel.GRID] * 55 + [ResolutionLevel.COMMUNITY] * 25 + \
            [ResolutionLevel.STREET] * 16 + [ResolutionLevel.DISTRICT, ResolutionLevel.COURT,
                                             ResolutionLevel.ARBITRATION, ResolutionLevel.CITY]
        for _ in range(count):
            recorder = rng.choice(recorders)
            persons = list(Person.objects.restrict(recorder, "registry.view_person")
                           .order_by("id").values_list("id", "grid_id")[:60])
            if len(persons) < 2:
                continue
            a, b = rng.sample(persons, 2)
            grid = AreaNode.objects.get(pk=a[1])
            lon, lat = self.pick_point(grid)
            self.t0 = self.start + timedelta(minutes=rng.uniform(0, (DAYS - 2) * 24 * 60))
            dispute = services.dispute_record(
                actor=recorder, category=rng.choice(self.dispute_codes), lon=lon, lat=lat,
                description=f"{DEMO_MARK} {rng.choice(DISPUTES)}", now=self.t0,
                parties=[{"person_id": a[0], "side": "applicant"},
                         {"person_id": b[0], "side": "respondent"}])
            self.bump("disputes")
            if rng.random() < 0.25:
                continue  # still being mediated
            level = rng.choice(levels)
            session_level = level if level not in (ResolutionLevel.COURT,
                                                   ResolutionLevel.ARBITRATION) else "street"
            services.mediation_record(actor=recorder, dispute=dispute, held_at=self.at(60 * 24),
                                      level=session_level, now=self.at(60 * 25),
                                      result="agreed" if level in (ResolutionLevel.GRID,
                                                                   ResolutionLevel.COMMUNITY,
                                                                   ResolutionLevel.STREET)
                                      else "failed", notes="双方到场，调解员释法说理")
            services.dispute_resolve(actor=recorder, dispute=dispute, level=level,
                                     agreement="双方达成调解协议，当场履行", now=self.at(60 * 26))
            self.bump("disputes resolved")


SITUATIONS = ("居民反映情况紧急，请尽快处理", "已持续两天，影响出行", "夜间尤其严重",
              "老人小孩经过很危险", "多次反映未解决", "附近商户也有意见", "下雨后更明显")
DISPUTES = ("楼上漏水引发邻里矛盾", "停车位归属争执", "装修噪声扰民引发纠纷", "工程款结算争议",
            "赡养老人问题家庭矛盾", "物业费收取争议", "宅基地边界争议", "消费退款纠纷")
