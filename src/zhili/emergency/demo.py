"""The demo's road network and rescue resources, then its rescue circles.

A synthetic road network over the demo city (`roads generate`), one air base,
a fire and rescue station in every other street, two professional teams and
a community responder group in every third community: all synthetic, and
marked so. The rescue circles are computed at once so the pages have figures.
A few teams get a leader account (`teams_seed`, printed among the demo logins);
the others have only their contact phone.
"""

from __future__ import annotations

import random

from zhili.emergency.models import RescueResource, RoadNetwork

SURNAMES = "王李张刘陈杨赵黄周吴"


def seed(*, seed: int, log) -> None:
    from zhili.emergency.coverage import coverage_compute
    from zhili.emergency.services import road_network_generate
    from zhili.geo.models import AreaNode, Level

    if not AreaNode.objects.filter(level=Level.GRID).exists():
        log("  no grids: emergency demo not seeded")
        return
    if not RoadNetwork.objects.exists():
        network = road_network_generate(actor=None, seed=seed)
        log(f"  synthetic road network: {network.nodes} nodes, {network.drive_edges} driving edges")
    if RescueResource.objects.filter(code__startswith="DEMO-RR-").exists():
        log("  emergency demo already seeded")
        return
    made = _resources(random.Random(seed))
    run = coverage_compute(reason="demo")
    log(f"  {made} rescue resources (synthetic); rescue circles for {run.points} risk points")


def _resources(rng: random.Random) -> int:
    from zhili.core.errors import OutsideCity
    from zhili.emergency.services import resource_create
    from zhili.geo.models import AreaNode, Level

    streets = list(AreaNode.objects.filter(level=Level.STREET).order_by("code"))
    communities = list(AreaNode.objects.filter(level=Level.COMMUNITY).order_by("code"))
    plan = [("AIR", "air_base", "航空救援基地", 40, streets[:1])]
    plan.append(("FIRE", "fire_station", "消防救援站", 30, streets[::2]))
    plan.append(("TEAM", "professional_team", "专业救援队", 25, streets[1::5][:2]))
    plan.append(("CR", "responder_group", "群防队", 12, communities[::3]))
    made = 0
    for prefix, kind, label, capacity, areas in plan:
        for n, area in enumerate(areas, start=1):
            grids = list(AreaNode.objects.filter(level=Level.GRID, path__startswith=area.path)
                         .order_by("code").values_list("centre_lon", "centre_lat"))
            if not grids:
                continue
            lon, lat = rng.choice(grids)
            try:
                resource_create(
                    actor=None, code=f"DEMO-RR-{prefix}-{n:03d}", name=f"{area.name}{label}",
                    kind=kind, lon=lon, lat=lat, capacity=capacity + rng.randrange(10),
                    availability=rng.choices(["available", "busy", "off_duty"], [8, 1, 1])[0]
                    if kind != "air_base" else "available",
                    grade="演示", contact_name=rng.choice(SURNAMES) + "队长",
                    contact_phone=f"138{rng.randrange(10**8):08d}", synthetic=True,
                    recompute=False)
                made += 1
            except OutsideCity:
                continue  # a grid whose centre falls outside it (a crescent): skip
    return made


# The teams that get accounts: the professional teams, then the first fire stations,
# of the demo commander's district, one leader account each (a dispatch to them is
# told in-app and by SMS, and the leader acknowledges in the inbox). Every other demo
# team (the responder groups among them) keeps only its synthetic contact phone: a
# dispatch to it is one SMS with an acknowledgement link. The demo incident has one of
# each (demo_incidents.py).
TEAM_DISTRICT = "500103"
TEAM_KINDS = ("professional_team", "fire_station")
TEAM_ACCOUNTS = 4


def _team_leaders():
    """(username, resource) of the demo teams that have an account, in code order."""
    from zhili.geo.models import AreaNode

    district = AreaNode.objects.filter(code=TEAM_DISTRICT.ljust(12, "0")).first()
    if district is None:
        return []
    teams = sorted(RescueResource.objects.filter(code__startswith="DEMO-RR-", kind__in=TEAM_KINDS,
                                                 area_path__startswith=district.path),
                   key=lambda t: (TEAM_KINDS.index(t.kind), t.code))[:TEAM_ACCOUNTS]
    return [(f"team{n}", team) for n, team in enumerate(teams, start=1)]


def teams_seed(*, seed: int, log) -> None:
    """The demo teams' leader accounts (password DEMO_PASSWORD), set as members through
    the real service; idempotent."""
    from zhili.accounts.models import User
    from zhili.accounts.services import user_create
    from zhili.core.seeding import DEMO_PASSWORD
    from zhili.emergency.services import resource_members_set

    made = 0
    for username, team in _team_leaders():
        user = User.objects.filter(username=username).first()
        if user is None:
            user = user_create(username=username, password=DEMO_PASSWORD,
                               display_name=f"{team.name}队长 Team leader")
            made += 1
        if not team.members.filter(pk=user.pk).exists():
            resource_members_set(actor=None, resource=team, users=[user])
    log(f"  {made} rescue team leader accounts; the other teams have a contact phone only")


def team_logins() -> list[tuple[str, str, str]]:
    """The team leaders, as `zhili demo` prints them: their team, and what they are."""
    from django.utils.translation import gettext as _

    rows = []
    for username, team in _team_leaders():
        if team.members.filter(username=username).exists():
            rows.append((username, f"{team.name} ({team.code})", _("Rescue team leader")))
    return rows
