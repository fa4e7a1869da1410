"""The demo's road network and rescue resources, then its rescue circles.

A synthetic road network over the demo city (`roads generate`), one air base,
a fire and rescue station in every other street, two professional teams and
a community responder group in every third community: all synthetic, and
marked so. The rescue circles are computed at once so the pages have figures.
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
